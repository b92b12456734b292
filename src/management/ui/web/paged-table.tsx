/** A broker-paged list with RabbitMQ's "Filter:" and "Page N of M" controls above its table. */
import { ListControls, LoadError, Table, type Column } from './components.js';
import type { usePagedList } from './paged.js';

export function PagedTable<T>(props: { list: ReturnType<typeof usePagedList<T>>; columns: Column<T>[]; label: string; rowKey: (row: T) => string }) {
  const { list } = props;
  const d = list.data;
  return (
    <>
      <LoadError error={list.error} />
      <ListControls
        filter={list.filter}
        regex={list.regex}
        onFilter={list.setFilter}
        page={list.page}
        pageCount={d?.page_count ?? 1}
        onPage={list.setPage}
        shown={d?.item_count ?? 0}
        filtered={d?.filtered_count ?? 0}
        total={d?.total_count ?? 0}
      />
      <Table label={props.label} columns={props.columns} rows={d?.items ?? []} rowKey={props.rowKey} sort={list.sort} onSort={list.setSort} />
    </>
  );
}
