/**
 * Lists paged, filtered and sorted by the broker, as RabbitMQ's UI asks for them
 * (`?page=&page_size=100&name=&use_regex=&sort=&sort_reverse=&pagination=true`): the browser only
 * ever holds one page, which is why 10,000 queues cost no more to show than 100.
 */
import { useState } from 'preact/hooks';
import { get } from './api.js';
import type { SortState } from './components.js';
import { useData } from './hooks.js';

export interface PageAnswer<T> {
  items: T[];
  page: number;
  page_count: number;
  page_size: number;
  item_count: number;
  filtered_count: number;
  total_count: number;
}

export const PAGE_SIZE = 100;

export function usePagedList<T>(path: string, defaultSort: SortState) {
  const [filter, setFilter] = useState('');
  const [regex, setRegex] = useState(false);
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState<SortState>(defaultSort);
  const q = new URLSearchParams({
    page: String(page),
    page_size: String(PAGE_SIZE),
    name: filter,
    use_regex: String(regex),
    pagination: 'true',
    sort: sort.key,
    sort_reverse: String(sort.reverse),
  });
  const loaded = useData(() => get<PageAnswer<T>>(`${path}?${q.toString()}`), [path, q.toString()]);
  return {
    ...loaded,
    filter,
    regex,
    page,
    sort,
    setFilter(f: string, r: boolean) {
      setFilter(f);
      setRegex(r);
      setPage(1);
    },
    setPage,
    setSort,
  };
}
