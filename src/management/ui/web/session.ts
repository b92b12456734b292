/** Who is logged in and what their tags allow the UI to offer (the API checks again). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

export interface Session {
  user: string;
  tags: string[];
  isAdmin: boolean;
  isMonitor: boolean;
  isPolicymaker: boolean;
}

export const SessionContext = createContext<Session>({ user: '', tags: [], isAdmin: false, isMonitor: false, isPolicymaker: false });

export function useSession(): Session {
  return useContext(SessionContext);
}
