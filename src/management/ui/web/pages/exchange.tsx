/** #/exchanges/<vhost>/<name>: details, bindings in and out, add binding, publish, delete. */
import { del, enc, get } from '../api.js';
import { ConfirmButton, Facts, LoadError, Notice, Section } from '../components.js';
import { value } from '../format.js';
import { useAction, useData } from '../hooks.js';
import { go, link } from '../routes.js';
import { Features, exchangeFeatures, type ExchangeInfo } from './exchanges.js';
import { AddBinding, BindingsTable, PublishForm, exchangeLabel, type BindingInfo } from './shared.js';

export function ExchangePage(props: { vhost: string; name: string }) {
  // The default exchange is addressed as amq.default, as in RabbitMQ's URLs.
  const name = props.name === 'amq.default' ? '' : props.name;
  const path = `/exchanges/${enc(props.vhost)}/${enc(props.name === '' ? 'amq.default' : props.name)}`;
  const ex = useData(() => get<ExchangeInfo>(path), [path]);
  const source = useData(() => (name === '' ? Promise.resolve([]) : get<BindingInfo[]>(`${path}/bindings/source`)), [path]);
  const dest = useData(() => (name === '' ? Promise.resolve([]) : get<BindingInfo[]>(`${path}/bindings/destination`)), [path]);
  const [message, failed, run] = useAction();
  const x = ex.data;
  const reload = () => {
    source.reload();
    dest.reload();
  };
  return (
    <>
      <h1>
        Exchange: <span class="object-name">{exchangeLabel(name)}</span>
        <small class="in-vhost"> in virtual host {props.vhost}</small>
      </h1>
      <LoadError error={ex.error} />
      {x ? (
        <>
          <Section title="Overview">
            <Facts
              rows={[
                ['Type', x.type],
                ['Features', <Features list={exchangeFeatures(x)} policy={x.policy} />],
                ['Durable', x.durable ? 'true' : 'false'],
                ['Auto delete', x.auto_delete ? 'true' : 'false'],
                ['Internal', x.internal ? 'true' : 'false'],
                ['Arguments', value(x.arguments)],
                ['Policy', x.policy ?? ''],
              ]}
            />
          </Section>
          <Section title="Bindings">
            {name === '' ? (
              <p>Default exchange: every queue is bound to it with its own name as the routing key; those bindings cannot be changed.</p>
            ) : (
              <>
                <h3>This exchange</h3>
                {dest.data && dest.data.length > 0 ? <BindingsTable label="Bindings to this exchange" bindings={dest.data} side="from" onChange={reload} /> : null}
                <p class="arrow" aria-hidden="true">⇓</p>
                <BindingsTable label="Bindings from this exchange" bindings={source.data ?? []} side="to" onChange={reload} />
                <h3>Add binding from this exchange</h3>
                <AddBinding vhost={props.vhost} exchange={name} onAdded={reload} />
              </>
            )}
          </Section>
          <Section title="Publish message" open={false}>
            <PublishForm vhost={props.vhost} exchange={name} />
          </Section>
          {name === '' || name.startsWith('amq.') ? null : (
            <Section title="Delete this exchange" open={false}>
              <ConfirmButton
                label="Delete"
                question="Delete this exchange?"
                onConfirm={() =>
                  void run(async () => {
                    await del(path);
                    go(link.exchanges());
                  })
                }
              />
              <Notice message={message} failed={failed} />
            </Section>
          )}
        </>
      ) : null}
    </>
  );
}
