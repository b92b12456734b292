/** The store logs through a function the broker injects, so it never decides where logs go. */
export type StoreLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StoreLogger = (level: StoreLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export const silentLogger: StoreLogger = () => {};
