/**
 * #/queues/<vhost>/<name>: charts, details, consumers (with single-active-consumer status),
 * bindings, publish, get messages, purge and delete (both ask first). "Move messages" needs
 * shovels, which Warren does not have yet, so it is not offered.
 */
import { useState } from 'preact/hooks';
import { del, enc, get, post } from '../api.js';
import { Chart, RangeSelect, rangeQuery, useRange, type Details } from '../chart.js';
import { ConfirmButton, Facts, LoadError, Notice, Section, SelectField, Table, TextField } from '../components.js';
import { bytes, num, rate, time, value } from '../format.js';
import { useAction, useData } from '../hooks.js';
import { go, link } from '../routes.js';
import { Features } from './exchanges.js';
import { lengthSeries, rateSeries } from './overview.js';
import { age, queueFeatures, queueRate, type QueueInfo } from './queues.js';
import { AddBinding, BindingsTable, PublishForm, type BindingInfo } from './shared.js';

interface ConsumerInfo {
  consumer_tag: string;
  channel_details: { name: string; connection_name: string };
  ack_required: boolean;
  exclusive: boolean;
  prefetch_count: number;
  active: boolean;
  activity_status: string;
  arguments: Record<string, unknown>;
}

interface QueueDetails extends QueueInfo {
  node: string;
  consumer_utilisation?: number;
  memory?: number;
  message_bytes?: number;
  message_bytes_ready?: number;
  message_bytes_unacknowledged?: number;
  messages_persistent?: number;
  message_bytes_persistent?: number;
  messages_details?: Details;
  messages_ready_details?: Details;
  messages_unacknowledged_details?: Details;
  consumer_details?: ConsumerInfo[];
  exclusive_consumer_tag?: string | null;
  single_active_consumer_tag?: string | null;
  effective_policy_definition?: Record<string, unknown>;
  head_message_timestamp?: number | null;
}

interface GotMessage {
  payload: string;
  payload_bytes: number;
  payload_encoding: string;
  redelivered: boolean;
  exchange: string;
  routing_key: string;
  message_count: number;
  properties: Record<string, unknown> | [];
}

export function QueuePage(props: { vhost: string; name: string }) {
  const [range, setRange] = useRange();
  const path = `/queues/${enc(props.vhost)}/${enc(props.name)}`;
  const queue = useData(() => get<QueueDetails>(`${path}?${rangeQuery(range)}`), [path, range.label]);
  const bindings = useData(() => get<BindingInfo[]>(`${path}/bindings`), [path]);
  const [message, failed, run] = useAction();
  const q = queue.data;
  return (
    <>
      <h1>
        Queue <span class="object-name">{props.name}</span>
        <small class="in-vhost"> in virtual host {props.vhost}</small>
      </h1>
      <LoadError error={queue.error} />
      {q ? (
        <>
          <Section title="Overview">
            <RangeSelect range={range} onChange={setRange} />
            <div class="charts">
              <div>
                <h3>Queued messages</h3>
                <Chart title="Queued messages" range={range} rates={false} series={lengthSeries(q)} />
              </div>
              <div>
                <h3>Message rates</h3>
                <Chart title="Message rates" range={range} rates series={rateSeries(q.message_stats as Record<string, unknown> | undefined)} />
              </div>
            </div>
            <h3>Details</h3>
            <Facts
              rows={[
                ['Type', q.type],
                ['Features', <Features list={queueFeatures(q)} policy={q.policy} />],
                ['State', q.state],
                ['Arguments', value(q.arguments)],
                ['Policy', q.policy ?? ''],
                ['Operator policy', q.operator_policy ?? ''],
                ['Effective policy definition', value(q.effective_policy_definition)],
                ['Consumers', num(q.consumers)],
                ['Consumer utilisation', q.consumer_utilisation === undefined ? '' : `${Math.round(q.consumer_utilisation * 100)}%`],
                ['Messages (ready / unacked / total)', `${num(q.messages_ready)} / ${num(q.messages_unacknowledged)} / ${num(q.messages)}`],
                ['Message body bytes (ready / unacked / total)', `${bytes(q.message_bytes_ready)} / ${bytes(q.message_bytes_unacknowledged)} / ${bytes(q.message_bytes)}`],
                ['Persistent (messages / body bytes)', q.type === 'stream' ? 'n/a' : `${num(q.messages_persistent)} / ${bytes(q.message_bytes_persistent)}`],
                ['Memory', bytes(q.memory)],
                ['Oldest ready message', q.type === 'stream' ? 'n/a' : age(q.oldest_ready_message_age_ms) || '—'],
                ['Oldest unacked delivery', q.type === 'stream' ? 'n/a' : age(q.oldest_unacked_delivery_age_ms) || '—'],
                ['Head message timestamp', typeof q.head_message_timestamp === 'number' ? time(q.head_message_timestamp * 1000) : ''],
                ['Redelivered / requeued', `${num(q.redelivered_total)} / ${num(q.requeued_total)}`],
                ['Incoming', rate(queueRate(q, 'publish'))],
                ['Deliver / get', rate(queueRate(q, 'deliver_get'))],
                ['Ack', rate(queueRate(q, 'ack'))],
              ]}
            />
          </Section>
          <Section title={`Consumers (${q.consumer_details?.length ?? 0})`}>
            <Table<ConsumerInfo>
              label="Consumers"
              empty="... no consumers ..."
              rows={q.consumer_details ?? []}
              rowKey={(c) => `${c.channel_details.name}|${c.consumer_tag}`}
              columns={[
                { label: 'Channel', render: (c) => <a href={link.channel(c.channel_details.name)}>{c.channel_details.name}</a> },
                { label: 'Consumer tag', render: (c) => c.consumer_tag },
                { label: 'Ack required', render: (c) => (c.ack_required ? '●' : '○') },
                { label: 'Exclusive', render: (c) => (c.exclusive ? '●' : '○') },
                { label: 'Prefetch count', num: true, render: (c) => num(c.prefetch_count) },
                { label: 'Active', render: (c) => (c.active ? '●' : '○') },
                { label: 'Activity status', render: (c) => c.activity_status },
                { label: 'Arguments', render: (c) => value(c.arguments) },
              ]}
            />
          </Section>
          <Section title="Bindings">
            <BindingsTable label="Bindings" bindings={bindings.data ?? []} side="from" onChange={bindings.reload} />
            <h3>Add binding to this queue</h3>
            <AddBinding vhost={props.vhost} queue={props.name} onAdded={bindings.reload} />
          </Section>
          <Section title="Publish message" open={false}>
            <PublishForm vhost={props.vhost} exchange="" fixedRoutingKey={props.name} onPublished={queue.reload} />
          </Section>
          <Section title="Get messages" open={false}>
            <GetMessages path={path} onDone={queue.reload} />
          </Section>
          <Section title="Delete" open={false}>
            <ConfirmButton
              label="Delete Queue"
              question={`Delete queue ${props.name}?`}
              onConfirm={() =>
                void run(async () => {
                  await del(path);
                  go(link.queues());
                })
              }
            />
          </Section>
          <Section title="Purge" open={false}>
            <ConfirmButton
              label="Purge Messages"
              question={`Purge all ready messages of queue ${props.name}?`}
              onConfirm={() =>
                void run(async () => {
                  await del(`${path}/contents`);
                  queue.reload();
                  return 'Queue purged.';
                })
              }
            />
          </Section>
          <Notice message={message} failed={failed} />
        </>
      ) : null}
    </>
  );
}

const ACK_MODES = [
  { value: 'ack_requeue_true', label: 'Nack message requeue true' },
  { value: 'ack_requeue_false', label: 'Automatic ack' },
  { value: 'reject_requeue_true', label: 'Reject requeue true' },
  { value: 'reject_requeue_false', label: 'Reject requeue false' },
];

function GetMessages(props: { path: string; onDone: () => void }) {
  const [ackmode, setAckmode] = useState('ack_requeue_true');
  const [encoding, setEncoding] = useState('auto');
  const [count, setCount] = useState('1');
  const [messages, setMessages] = useState<GotMessage[] | undefined>(undefined);
  const [message, failed, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const requeues = ackmode.endsWith('requeue_true');
    if (!requeues && !window.confirm('Messages will be removed from the queue. Are you sure?')) return;
    void run(async () => {
      const got = await post<GotMessage[]>(`${props.path}/get`, { count: Number(count), ackmode, encoding, truncate: 50000 });
      setMessages(got);
      props.onDone();
      return got.length === 0 ? 'Queue is empty' : undefined;
    });
  };
  return (
    <>
      <form onSubmit={submit}>
        <SelectField label="Ack Mode:" value={ackmode} options={ACK_MODES} onChange={setAckmode} />
        <SelectField
          label="Encoding:"
          value={encoding}
          options={[
            { value: 'auto', label: 'Auto string / base64' },
            { value: 'base64', label: 'base64' },
          ]}
          onChange={setEncoding}
        />
        <TextField label="Messages:" type="number" min="1" value={count} onInput={setCount} />
        <button type="submit">Get Message(s)</button>
      </form>
      <Notice message={message} failed={failed} />
      {messages?.map((m, i) => (
        <article class="got-message" key={i} aria-label={`Message ${i + 1}`}>
          <h3>Message {i + 1}</h3>
          <p>The server reported {num(m.message_count)} messages remaining.</p>
          <Facts
            rows={[
              ['Exchange', m.exchange === '' ? '(AMQP default)' : m.exchange],
              ['Routing Key', m.routing_key],
              ['Redelivered', m.redelivered ? '●' : '○'],
              ['Properties', <PropertiesView p={m.properties} />],
              [
                'Payload',
                <>
                  <small>
                    {num(m.payload_bytes)} bytes, Encoding: {m.payload_encoding}
                  </small>
                  <pre class="payload">{m.payload}</pre>
                </>,
              ],
            ]}
          />
        </article>
      ))}
    </>
  );
}

function PropertiesView(props: { p: Record<string, unknown> | [] }) {
  if (Array.isArray(props.p)) return null;
  const { headers, ...rest } = props.p;
  const rows: [string, string][] = Object.entries(rest).map(([k, v]) => [k, value(v)]);
  if (headers && typeof headers === 'object') for (const [k, v] of Object.entries(headers as Record<string, unknown>)) rows.push([`headers: ${k}`, value(v)]);
  return <Facts rows={rows} />;
}
