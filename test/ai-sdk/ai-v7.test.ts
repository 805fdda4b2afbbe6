/** The shared AI SDK suite against AI SDK 7 (`ai-v7`). */
import { sdk7 } from './sdk.js';
import { defineSdkSuite } from './suite.js';

defineSdkSuite(sdk7);
