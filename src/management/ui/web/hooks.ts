/**
 * Live data: every page loads what it shows through useData, which reloads on each refresh tick
 * (the interval chosen in the header) and after the page's own changes. Answers that arrive after
 * a newer request was made are dropped, so a slow answer never overwrites a fresh one.
 */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';

export interface Refresh {
  /** Increases on every refresh; pages reload when it changes. */
  tick: number;
  /** '' means all vhosts. */
  vhost: string;
  /** Marks the page as refreshed now (the header shows the time). */
  refreshed(): void;
}

export const RefreshContext = createContext<Refresh>({ tick: 0, vhost: '', refreshed: () => {} });

export function useRefresh(): Refresh {
  return useContext(RefreshContext);
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  reload(): void;
}

export function useData<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const { tick, refreshed } = useRefresh();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [nonce, setNonce] = useState(0);
  const seq = useRef(0);
  const depsKey = JSON.stringify(deps);
  const lastKey = useRef(depsKey);
  useEffect(() => {
    if (lastKey.current !== depsKey) {
      // Another object or filter: do not show the previous one's data meanwhile.
      lastKey.current = depsKey;
      setData(undefined);
    }
    const mine = ++seq.current;
    load().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError(undefined);
        refreshed();
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, [tick, nonce, depsKey]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data, error, reload };
}

/** A form action's outcome, shown next to the form until the next action. */
export function useAction(): [string | undefined, boolean, (fn: () => Promise<string | void>) => Promise<void>] {
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  const run = useCallback(async (fn: () => Promise<string | void>) => {
    setMessage(undefined);
    try {
      const m = await fn();
      setFailed(false);
      setMessage(m || undefined);
    } catch (e) {
      setFailed(true);
      setMessage(e instanceof Error ? e.message : String(e));
    }
  }, []);
  return [message, failed, run];
}
