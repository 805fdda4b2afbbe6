/**
 * The risky tool: `transfer_funds`, a fake, local bank. Nothing leaves the machine; the point
 * is that it runs only when core's gate lets it (demo.ts), and that the demo can show whether it
 * ran — `transfers` is the ledger the final outcome is read from.
 * @module
 */

/** Arguments of `transfer_funds`. */
export interface TransferArgs {
  to: string;
  amount: number;
  currency: string;
}

/** What a completed transfer returns. */
export interface TransferReceipt {
  transfer_id: string;
  status: 'completed';
  to: string;
  amount: number;
  currency: string;
}

/** The fake bank. */
export interface FakeBank {
  /** Executes a transfer (no network). @throws Error for malformed arguments */
  transferFunds(args: Record<string, unknown>): TransferReceipt;
  /** Every executed transfer, in order. */
  readonly transfers: readonly TransferReceipt[];
}

/** Checks the arguments a model wrote: a real tool must not trust them either. */
function checkTransferArgs(args: Record<string, unknown>): TransferArgs {
  const { to, amount, currency } = args;
  if (typeof to !== 'string' || to.trim() === '') throw new Error('transfer_funds: "to" must be a non-empty account');
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0)
    throw new Error('transfer_funds: "amount" must be a positive number');
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    throw new Error('transfer_funds: "currency" must be an ISO 4217 code such as EUR');
  return { to, amount, currency };
}

/** Creates an empty fake bank; transfer ids are sequential, so the output is deterministic. */
export function createFakeBank(): FakeBank {
  const transfers: TransferReceipt[] = [];
  return {
    transferFunds(args) {
      const { to, amount, currency } = checkTransferArgs(args);
      const receipt: TransferReceipt = {
        transfer_id: `tx_${String(transfers.length + 1).padStart(4, '0')}`,
        status: 'completed',
        to,
        amount,
        currency,
      };
      transfers.push(receipt);
      return receipt;
    },
    get transfers() {
      return transfers;
    },
  };
}
