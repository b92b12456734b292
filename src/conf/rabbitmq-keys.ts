/**
 * rabbitmq.conf keys that RabbitMQ 3.10 (core, management, prometheus, stream and peer discovery
 * schemas) knows and Warren does not implement. Such a key is ignored with a warning that names it;
 * a key in neither this list nor Warren's mapping is an error, as RabbitMQ treats unknown keys.
 *
 * Patterns: `*` is one dot-separated word (RabbitMQ's `$name`), a trailing `**` any number of words.
 * Plugin namespaces Warren has no counterpart for at all (mqtt, stomp, ldap...) are whole subtrees.
 */
const PATTERNS = [
  // core: listeners, acceptors, sockets
  'num_acceptors.tcp', 'num_acceptors.ssl', 'socket_writer.gc_threshold', 'reverse_dns_lookups', 'erlang.K',
  'tcp_listen_options', 'tcp_listen_options.**', 'proxy_protocol',
  // definitions import at boot
  'load_definitions', 'definitions.**',
  // TLS details Warren leaves to OpenSSL's defaults
  'ssl_allow_poodle_attack', 'ssl_options', 'ssl_options.cacerts.*', 'ssl_options.cert', 'ssl_options.client_renegotiation',
  'ssl_options.crl_check', 'ssl_options.depth', 'ssl_options.dh', 'ssl_options.dhfile', 'ssl_options.honor_cipher_order',
  'ssl_options.honor_ecc_order', 'ssl_options.key.*', 'ssl_options.log_level', 'ssl_options.log_alert',
  'ssl_options.psk_identity', 'ssl_options.reuse_sessions', 'ssl_options.secure_renegotiate', 'ssl_options.bypass_pem_cache',
  'ssl_cert_login_san_type', 'ssl_cert_login_san_index',
  // auth backends and credentials policy
  'auth_backends.*', 'auth_backends.*.authn', 'auth_backends.*.authz', 'password_hashing_module',
  'credential_validator.validation_backend', 'credential_validator.min_length', 'credential_validator.regexp',
  'default_permissions.configure', 'default_permissions.read', 'default_permissions.write',
  // protocol and resource tuning
  'default_worker_pool_size', 'initial_frame_max', 'vm_memory_high_watermark_paging_ratio', 'memory_monitor_interval',
  'vm_memory_calculation_strategy', 'total_memory_available_override_value',
  // clustering and Mnesia internals
  'cluster_partition_handling', 'cluster_partition_handling.**', 'delegate_count', 'mirroring_sync_batch_size',
  'mirroring_sync_max_throughput', 'cluster_keepalive_interval', 'queue_master_locator', 'queue_leader_locator',
  'collect_statistics', 'collect_statistics_interval', 'hipe_compile', 'mnesia_table_loading_retry_timeout',
  'mnesia_table_loading_retry_limit', 'message_store_shutdown_timeout', 'queue_index_embed_msgs_below',
  'background_gc_enabled', 'background_gc_target_interval', 'vhost_restart_strategy', 'net_ticktime',
  'distribution.listener.port_range.max', 'distribution.listener.interface', 'classic_queue.default_version',
  'quorum_queue.compute_checksums', 'raft.**', 'sysmon_handler.**', 'product.name', 'product.version', 'motd_file',
  // logging beyond console and file
  'log.console.stdio', 'log.console.use_colors', 'log.console.color_esc_seqs.*', 'log.console.formatter.**',
  'log.file.formatter.**', 'log.file.rotation.*', 'log.exchange', 'log.exchange.**', 'log.journald', 'log.journald.**',
  'log.syslog', 'log.syslog.**', 'log.*.level', 'log.*.file', 'log.*.rotation.*', 'log.default.level',
  // management plugin details
  'management.cors.**', 'management.csp.policy', 'management.db_cache_multiplier', 'management.disable_basic_auth',
  'management.disable_stats', 'management.enable_queue_totals', 'management.enable_uaa', 'management.headers.*',
  'management.hsts.policy', 'management.http.max_body_size', 'management.http_log_dir', 'management.listener.server.*',
  'management.listener.ssl', 'management.listener.ssl_opts.**', 'management.load_definitions',
  'management.login_session_timeout', 'management.path_prefix', 'management.rates_mode',
  'management.sample_retention_policies.*.*', 'management.uaa_client_id', 'management.uaa_location',
  'management.tcp.compress', 'management.tcp.idle_timeout', 'management.tcp.inactivity_timeout',
  'management.tcp.max_keepalive', 'management.tcp.request_timeout', 'management.tcp.shutdown_timeout',
  'management.ssl.backlog', 'management.ssl.client_renegotiation', 'management.ssl.compress', 'management.ssl.depth',
  'management.ssl.honor_cipher_order', 'management.ssl.honor_ecc_order', 'management.ssl.idle_timeout',
  'management.ssl.inactivity_timeout', 'management.ssl.max_keepalive', 'management.ssl.request_timeout',
  'management.ssl.reuse_sessions', 'management.ssl.secure_renegotiate', 'management.ssl.shutdown_timeout',
  'management_agent.**',
  // prometheus plugin details
  'prometheus.filter_aggregated_queue_metrics_pattern', 'prometheus.path', 'prometheus.return_per_object_metrics',
  'prometheus.tcp.compress', 'prometheus.tcp.idle_timeout', 'prometheus.tcp.inactivity_timeout',
  'prometheus.tcp.max_keepalive', 'prometheus.tcp.request_timeout', 'prometheus.tcp.shutdown_timeout',
  'prometheus.ssl.backlog', 'prometheus.ssl.client_renegotiation', 'prometheus.ssl.compress', 'prometheus.ssl.depth',
  'prometheus.ssl.honor_cipher_order', 'prometheus.ssl.honor_ecc_order', 'prometheus.ssl.idle_timeout',
  'prometheus.ssl.inactivity_timeout', 'prometheus.ssl.max_keepalive', 'prometheus.ssl.request_timeout',
  'prometheus.ssl.reuse_sessions', 'prometheus.ssl.secure_renegotiate', 'prometheus.ssl.shutdown_timeout',
  // stream plugin details
  'stream.listeners.ssl', 'stream.num_acceptors.*', 'stream.tcp_listen_options',
  'stream.tcp_listen_options.**', 'stream.advertised_tls_host', 'stream.ssl_cert_login',
  'stream.credits_required_for_unblocking', 'stream.frame_max', 'stream.heartbeat', 'stream.initial_credits',
  // plugins with no Warren counterpart
  'mqtt.**', 'stomp.**', 'web_mqtt.**', 'web_stomp.**', 'amqp1_0.**', 'auth_ldap.**', 'auth_http.**',
  'auth_oauth2.**', 'auth_cache.**', 'trust_store.**', 'event_exchange.**', 'aws.**', 'federation.**', 'shovel.**',
];

const compiled = PATTERNS.map((p) => {
  const re = p
    .split('.')
    .map((w) => (w === '**' ? '.+' : w === '*' ? '[^.]+' : w.replace(/[$_-]/g, (c) => `\\${c}`)))
    .join('\\.');
  return new RegExp(`^${re}$`);
});

/** Is this a key RabbitMQ knows (so: warn and ignore rather than refuse)? */
export function isKnownRabbitKey(key: string): boolean {
  return compiled.some((re) => re.test(key));
}
