/**
 * The gate's rules file (`noxy-mcp gate --config FILE`), validated with zod at start so that a
 * typo stops the proxy with the bad field named, instead of silently gating less.
 *
 * ```json
 * {
 *   "gate": ["delete_*"],
 *   "allow": ["read_*"],
 *   "tools": {
 *     "write_file": { "when": { "path": { "startsWith": "/etc" } } },
 *     "transfer": { "when": { "amount": { "gt": 100 } } },
 *     "list_directory": "allow"
 *   }
 * }
 * ```
 * @module
 */
import { readFileSync } from 'node:fs';
import { NoxyError } from '@noxy-approval/core';
import { z } from 'zod';

/** One comparison on one argument; all operators given must hold. */
const predicateSchema = z
  .object({
    equals: z.unknown().optional(),
    notEquals: z.unknown().optional(),
    in: z.array(z.unknown()).optional(),
    startsWith: z.string().optional(),
    endsWith: z.string().optional(),
    contains: z.string().optional(),
    matches: z
      .string()
      .refine(
        (s) => {
          try {
            new RegExp(s, 'u');
            return true;
          } catch {
            return false;
          }
        },
        { message: 'not a valid regular expression' },
      )
      .optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    exists: z.boolean().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'a predicate needs at least one operator' });

/** Argument path (dots for nested fields) → predicate; every entry must hold. */
const conditionSchema = z.record(z.string().min(1), predicateSchema);

const ruleSchema = z.union([
  z.enum(['gate', 'allow']),
  z
    .object({
      /** Gate only when the arguments match (an array: when any of them matches). */
      when: z.union([conditionSchema, z.array(conditionSchema).min(1)]),
    })
    .strict(),
]);

const globList = z.array(z.string().min(1));

/** The rules file. */
export const gateConfigSchema = z
  .object({
    $schema: z.string().optional(),
    gate: globList.optional(),
    allow: globList.optional(),
    tools: z.record(z.string().min(1), ruleSchema).optional(),
  })
  .strict();

/** A validated rules file. */
export type GateConfig = z.infer<typeof gateConfigSchema>;
/** One predicate of a `when` condition. */
export type ArgPredicate = z.infer<typeof predicateSchema>;
/** A per-tool rule: always gate, never gate, or gate when the arguments match. */
export type ToolRule = z.infer<typeof ruleSchema>;

const fieldOf = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(root)';

interface Issue {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  errors?: Issue[][];
}

/** The most telling issue: inside a union, the branch that got furthest (the user's intent). */
function deepest(issue: Issue, prefix: readonly PropertyKey[] = []): { path: PropertyKey[]; message: string } {
  const here = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return { path: here, message: issue.message };
  const candidates = issue.errors.flatMap((branch) => branch.map((i) => deepest(i, here)));
  return candidates.reduce((a, b) => (b.path.length > a.path.length ? b : a), { path: here, message: issue.message });
}

/**
 * Validates a parsed rules object.
 * @param source named in the error (a file name)
 * @throws NoxyError `INVALID_ARGUMENT` naming the first bad field
 */
export function parseGateConfig(value: unknown, source = 'config'): GateConfig {
  const parsed = gateConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = deepest(parsed.error.issues[0] as Issue);
  const field = fieldOf(issue.path);
  throw new NoxyError('INVALID_ARGUMENT', `${source}: "${field}" ${issue.message}`, { field });
}

/**
 * Reads and validates a rules file.
 * @throws NoxyError `INVALID_ARGUMENT` for an unreadable file, bad JSON or a bad field
 */
export function loadGateConfig(file: string): GateConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new NoxyError('INVALID_ARGUMENT', `cannot read ${file}: ${(err as Error).message}`, { field: 'config' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new NoxyError('INVALID_ARGUMENT', `${file} is not valid JSON: ${(err as Error).message}`, {
      field: 'config',
    });
  }
  return parseGateConfig(json, file);
}

/** Splits `--gate a,b --gate c` values into globs. */
export function splitGlobs(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
