/** The shared AI SDK suite against AI SDK 6 (`ai`). */
import { sdk6 } from './sdk.js';
import { defineSdkSuite } from './suite.js';

defineSdkSuite(sdk6);
