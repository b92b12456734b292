/** Sections used on both the exchange and the queue page: publish a message, bindings. */
import { useState } from 'preact/hooks';
import { del, enc, post } from '../api.js';
import { ConfirmButton, KeyValueEditor, Notice, SelectField, Table, TextArea, TextField, rowsToObject, type KeyValueRow } from '../components.js';
import { value } from '../format.js';
import { useAction } from '../hooks.js';
import { link } from '../routes.js';

/** The default exchange is `amq.default` in API paths, "(AMQP default)" on screen, as RabbitMQ. */
export const exchangePath = (name: string) => (name === '' ? 'amq.default' : name);
export const exchangeLabel = (name: string) => (name === '' ? '(AMQP default)' : name);

const PROPERTY_HINT = 'Properties: content_type, content_encoding, priority, correlation_id, reply_to, expiration, message_id, timestamp, type, user_id, app_id, cluster_id';
const NUMERIC_PROPERTIES = new Set(['priority', 'timestamp']);

export function PublishForm(props: { vhost: string; exchange: string; fixedRoutingKey?: string; onPublished?: () => void }) {
  const [routingKey, setRoutingKey] = useState('');
  const [deliveryMode, setDeliveryMode] = useState('1');
  const [headers, setHeaders] = useState<KeyValueRow[]>([]);
  const [properties, setProperties] = useState<KeyValueRow[]>([]);
  const [payload, setPayload] = useState('');
  const [encoding, setEncoding] = useState('string');
  const [message, failed, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const props_: Record<string, unknown> = { delivery_mode: Number(deliveryMode), headers: rowsToObject(headers) };
      for (const [k, v] of Object.entries(rowsToObject(properties))) props_[k] = NUMERIC_PROPERTIES.has(k) ? Number(v) : v;
      const res = await post<{ routed: boolean }>(`/exchanges/${enc(props.vhost)}/${enc(exchangePath(props.exchange))}/publish`, {
        routing_key: props.fixedRoutingKey ?? routingKey,
        properties: props_,
        payload,
        payload_encoding: encoding,
      });
      props.onPublished?.();
      return res.routed ? 'Message published.' : 'Message published, but not routed.';
    });
  };
  return (
    <form onSubmit={submit} class="publish">
      {props.fixedRoutingKey === undefined ? (
        <TextField label="Routing key:" name="routing_key" value={routingKey} onInput={setRoutingKey} />
      ) : (
        <p class="hint">Message will be published to the default exchange with routing key {props.fixedRoutingKey}, routing it to this queue.</p>
      )}
      <SelectField
        label="Delivery mode:"
        value={deliveryMode}
        options={[
          { value: '1', label: '1 - Non-persistent' },
          { value: '2', label: '2 - Persistent' },
        ]}
        onChange={setDeliveryMode}
      />
      <KeyValueEditor label="Headers:" rows={headers} onChange={setHeaders} />
      <KeyValueEditor label="Properties:" rows={properties} onChange={setProperties} hint={PROPERTY_HINT} />
      <TextArea label="Payload:" name="payload" value={payload} onInput={setPayload} />
      <SelectField
        label="Payload encoding:"
        value={encoding}
        options={[
          { value: 'string', label: 'String (default)' },
          { value: 'base64', label: 'Base64' },
        ]}
        onChange={setEncoding}
      />
      <button type="submit">Publish message</button>
      <Notice message={message} failed={failed} />
    </form>
  );
}

export interface BindingInfo {
  source: string;
  vhost: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments: Record<string, unknown>;
  properties_key: string;
}

function unbindPath(b: BindingInfo): string {
  const t = b.destination_type === 'queue' ? 'q' : 'e';
  return `/bindings/${enc(b.vhost)}/e/${enc(b.source)}/${t}/${enc(b.destination)}/${b.properties_key}`;
}

/** Bindings with Unbind buttons; `side` says which end is shown ("From" on a queue, "To" on an exchange). */
export function BindingsTable(props: { bindings: BindingInfo[]; side: 'from' | 'to'; onChange: () => void; label: string }) {
  const [message, failed, run] = useAction();
  return (
    <>
      <Table<BindingInfo>
        label={props.label}
        empty="... no bindings ..."
        rows={props.bindings}
        rowKey={(b) => `${b.source}|${b.destination_type}|${b.destination}|${b.properties_key}`}
        columns={[
          props.side === 'from'
            ? { label: 'From', render: (b) => (b.source === '' ? '(Default exchange binding)' : <a href={link.exchange(b.vhost, b.source)}>{b.source}</a>) }
            : {
                label: 'To',
                render: (b) => <a href={b.destination_type === 'queue' ? link.queue(b.vhost, b.destination) : link.exchange(b.vhost, b.destination)}>{b.destination}</a>,
              },
          { label: 'Routing key', render: (b) => b.routing_key },
          { label: 'Arguments', render: (b) => value(b.arguments) },
          {
            label: 'Action',
            render: (b) =>
              b.source === '' ? null : (
                <ConfirmButton
                  label="Unbind"
                  question="Are you sure? This will remove the binding."
                  onConfirm={() =>
                    void run(async () => {
                      await del(unbindPath(b));
                      props.onChange();
                    })
                  }
                />
              ),
          },
        ]}
      />
      <Notice message={message} failed={failed} />
    </>
  );
}

/** "Add binding": to a queue or exchange from this exchange, or from an exchange to this queue. */
export function AddBinding(props: { vhost: string; exchange?: string; queue?: string; onAdded: () => void }) {
  const [destType, setDestType] = useState('q');
  const [other, setOther] = useState('');
  const [routingKey, setRoutingKey] = useState('');
  const [args, setArgs] = useState<KeyValueRow[]>([]);
  const [message, failed, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const path =
        props.queue !== undefined
          ? `/bindings/${enc(props.vhost)}/e/${enc(other)}/q/${enc(props.queue)}`
          : `/bindings/${enc(props.vhost)}/e/${enc(props.exchange ?? '')}/${destType}/${enc(other)}`;
      await post(path, { routing_key: routingKey, arguments: rowsToObject(args) });
      setOther('');
      setRoutingKey('');
      setArgs([]);
      props.onAdded();
      return 'Binding added.';
    });
  };
  return (
    <form onSubmit={submit}>
      {props.queue !== undefined ? (
        <TextField label="From exchange:" required value={other} onInput={setOther} />
      ) : (
        <>
          <SelectField
            label="Destination type:"
            value={destType}
            options={[
              { value: 'q', label: 'To queue' },
              { value: 'e', label: 'To exchange' },
            ]}
            onChange={setDestType}
          />
          <TextField label={destType === 'q' ? 'Queue name:' : 'Exchange name:'} required value={other} onInput={setOther} />
        </>
      )}
      <TextField label="Routing key:" value={routingKey} onInput={setRoutingKey} />
      <KeyValueEditor label="Arguments:" rows={args} onChange={setArgs} />
      <button type="submit">Bind</button>
      <Notice message={message} failed={failed} />
    </form>
  );
}
