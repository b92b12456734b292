/** Public API for embedding Warren: `import { Broker } from 'warren'`. */
export { Broker } from './server.js';
export type { BrokerOptions } from './config.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
