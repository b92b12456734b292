/** Public API for embedding Warren: `import { Broker } from 'warren'`. */
export { Broker } from './broker/broker.js';
export type { BrokerOptions } from './config.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
