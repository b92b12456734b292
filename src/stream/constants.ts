/**
 * RabbitMQ stream protocol numbers (the protocol's PROTOCOL.adoc): command keys, response codes and
 * offset-specification types. A response carries its request's key with the top bit set.
 */
export const Key = {
  DeclarePublisher: 1,
  Publish: 2,
  PublishConfirm: 3,
  PublishError: 4,
  QueryPublisherSequence: 5,
  DeletePublisher: 6,
  Subscribe: 7,
  Deliver: 8,
  Credit: 9,
  StoreOffset: 10,
  QueryOffset: 11,
  Unsubscribe: 12,
  Create: 13,
  Delete: 14,
  Metadata: 15,
  MetadataUpdate: 16,
  PeerProperties: 17,
  SaslHandshake: 18,
  SaslAuthenticate: 19,
  Tune: 20,
  Open: 21,
  Close: 22,
  Heartbeat: 23,
  Route: 24,
  Partitions: 25,
  ConsumerUpdate: 26,
  ExchangeCommandVersions: 27,
  StreamStats: 28,
} as const;

export const RESPONSE_FLAG = 0x8000;

export const Code = {
  Ok: 1,
  StreamDoesNotExist: 2,
  SubscriptionIdAlreadyExists: 3,
  SubscriptionIdDoesNotExist: 4,
  StreamAlreadyExists: 5,
  StreamNotAvailable: 6,
  SaslMechanismNotSupported: 7,
  AuthenticationFailure: 8,
  SaslError: 9,
  SaslChallenge: 10,
  SaslAuthenticationFailureLoopback: 11,
  VirtualHostAccessFailure: 12,
  UnknownFrame: 13,
  FrameTooLarge: 14,
  InternalError: 15,
  AccessRefused: 16,
  PreconditionFailed: 17,
  PublisherDoesNotExist: 18,
  NoOffset: 19,
} as const;

export const OffsetType = { First: 1, Last: 2, Next: 3, Offset: 4, Timestamp: 5 } as const;

/**
 * What this server implements, answered to exchange_command_versions (3.11+ behaviour; 3.10 lacks the
 * command). Publish and Deliver stay at version 1 as in 3.10: no filter values, no committed chunk id.
 * ConsumerUpdate is the 3.11 single-active-consumer hand-over (single-active-consumer.ts).
 */
export const SERVER_COMMAND_VERSIONS: readonly { key: number; min: number; max: number }[] = [
  Key.DeclarePublisher, Key.Publish, Key.QueryPublisherSequence, Key.DeletePublisher, Key.Subscribe, Key.Deliver,
  Key.Credit, Key.StoreOffset, Key.QueryOffset, Key.Unsubscribe, Key.Create, Key.Delete, Key.Metadata,
  Key.MetadataUpdate, Key.PeerProperties, Key.SaslHandshake, Key.SaslAuthenticate, Key.Tune, Key.Open, Key.Close,
  Key.Heartbeat, Key.Route, Key.Partitions, Key.ConsumerUpdate, Key.ExchangeCommandVersions, Key.StreamStats,
].map((key) => ({ key, min: 1, max: 1 }));
