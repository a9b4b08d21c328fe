/**
 * Every limit and detection parameter of Vigil, in one place.
 *
 * Each value carries its unit in its name. `config/load.ts` overrides these from the
 * environment; the API changes detection parameters at run time. Nothing else in the
 * code base holds a magic number for a limit.
 *
 * @module
 */

/** Limits of the actor runtime. */
export interface RuntimeLimits {
  /** Messages one actor may hold waiting; past this the source partition pauses. */
  mailbox_capacity: number;
  /** Actors held in memory at once; past this the least recently used is passivated. */
  max_resident_actors: number;
  /** An actor with no message for this long is passivated (its state snapshotted). */
  idle_timeout_ms: number;
  /**
   * Key sets of states the snapshot encoding numbers (`actors/state_codec.ts`); an object
   * of another key set carries its keys.
   */
  snapshot_max_shapes: number;
  /**
   * The embedded snapshot store copies its live states to fresh slabs once the bytes of
   * states taken back or overwritten exceed both the live bytes and this.
   */
  snapshot_min_compact_bytes: number;
  /** How often the idle sweep and the watermark tick run. */
  sweep_interval_ms: number;
  /** Actors one idle sweep looks at, at most (it goes round the resident set in turns). */
  sweep_max_actors: number;
  /** How far behind the highest event time an event may arrive and still count in windows. */
  allowed_lateness_ms: number;
  /**
   * An event whose time is further ahead of the clock than this is dead-lettered, so
   * one wrong clock cannot push a partition's watermark into the future.
   */
  max_future_ms: number;
  /** Events taken from one partition in one pass of the consumer loop. */
  max_batch_events: number;
  /**
   * Batches handled but not yet durable, at most, per consumer: the next batch is handled
   * while the previous one's alerts are being stored and produced.
   */
  max_batches_in_flight: number;
  /**
   * Partitions whose batches are handled at the same time, at most (Kafka): their waits
   * for the store, the producer and commits overlap, and their flushes share requests.
   */
  partitions_in_parallel: number;
  /** Number of partitions of every input topic (Kafka's and the embedded log's). */
  partitions: number;
  /** Records the embedded log keeps per partition (oldest dropped first). */
  log_retention_records: number;
  /**
   * Of a topic the embedded log's readers have read, records kept per partition past what
   * every one of them has committed (the newest); the rest are dropped at once.
   */
  log_keep_consumed_records: number;
  /**
   * The embedded log's readers and the simulator's backfill work this long (ms) per turn
   * of the event loop at most, then let it poll sockets: under a backlog the API,
   * /metrics and Kafka still answer within a few turns (each wait costs 1 to 4 ms).
   */
  turn_ms: number;
  /**
   * A partition with no event for this long (processing time) lets its event time go on
   * with the clock, so timers (idle sessions) fire when traffic stops.
   */
  idle_watermark_delay_ms: number;
  /**
   * On Kafka, each input partition tells every other partition how far it has read at
   * least this often in event time (a small record on the repartition topic): a
   * partition that may be sent records read elsewhere holds its event time back to
   * every partition that may send them, so a moved record is never found late.
   */
  repartition_progress_ms: number;
  /**
   * How long an actor type's event time waits, when its lane starts, for word from each
   * other partition of what it moves here (a partition may have none of a kind: few pages,
   * few services); then it goes on with the streams that came (at most the idle delay).
   */
  repartition_wait_ms: number;
  /** Events `deno task replay` holds in memory to sort by event time. */
  max_replay_events: number;
  /**
   * Threads a replay runs its actors on. 1: all on the main thread. 2 or more: worker
   * threads, one per group of actor types that exchange no messages (users and IPs;
   * network sources, services and pages), the main thread reading and dealing out lines.
   * Either gives the same alerts.
   */
  replay_threads: number;
  /** Lines a replay hands a worker thread at once, and such hand-outs unfinished at most. */
  replay_chunk_lines: number;
  replay_chunks_in_flight: number;
}

/** Supervision defaults for entity actors and partition supervisors. */
export interface SupervisionLimits {
  /** Retries of a message that made its actor fail, before it is dead-lettered. */
  max_message_retries: number;
  /** Restarts of one key allowed within `restart_window_ms` before it is quarantined. */
  max_restarts_per_key: number;
  /** The window in which restarts of one key are counted. */
  restart_window_ms: number;
  /** Backoff before retrying a failed message: first delay. */
  backoff_min_ms: number;
  /** Backoff ceiling. */
  backoff_max_ms: number;
  /** Fraction of random jitter added to each backoff delay (0..1). */
  backoff_jitter: number;
  /** How long a quarantined key refuses messages (they are dead-lettered). */
  quarantine_ms: number;
  /** Failures in one partition within `partition_window_ms` before escalating to the root. */
  max_failures_per_partition: number;
  /** The window in which a partition's failures are counted. */
  partition_window_ms: number;
  /** Partition restarts within `root_window_ms` before the whole system stops. */
  max_partition_restarts: number;
  root_window_ms: number;
}

/** Parameters of the per-user auth detections (docs/detections.md). */
export interface AuthRules {
  /** `auth.brute_force`: failures in the window that fire the rule. */
  brute_force_failures: number;
  brute_force_window_ms: number;
  /** Lock hint grows by this much per escalation step. */
  brute_force_lock_step_ms: number;
  brute_force_lock_max_ms: number;
  /** Failure counter (and escalation) resets after this long without a failure. */
  brute_force_reset_ms: number;
  /** `auth.success_after_failures`: failures, then a success within the window. */
  success_after_failures_min: number;
  success_after_failures_window_ms: number;
  /** Recent failures remembered per user (from all IPs), enough for every rule above. */
  max_failures_tracked: number;
  /** A session with no activity for this long is closed. */
  session_idle_timeout_ms: number;
  /** Open sessions remembered per user (oldest closed first past this). */
  max_sessions_per_user: number;
  /**
   * `auth.risky_login`: the login-risk model's risk at which a login is alerted at the
   * low (allow), medium (step-up) and high (block) level.
   */
  risky_login_low: number;
  risky_login_medium: number;
  risky_login_high: number;
  /** `auth.impossible_travel`: two logins needing more than this speed … */
  impossible_travel_speed_kmh: number;
  /** … and further apart than this. */
  impossible_travel_min_km: number;
  /** `auth.new_device_location`: logins the user must have had before a new device or country alerts. */
  new_device_min_logins: number;
}

/** Rules that chain a user's logins, payments and the alerts about them (docs/detections.md). */
export interface UserChainRules {
  /** `user.account_takeover`: a suspicious login, then a transfer to a new payee within this … */
  account_takeover_window_ms: number;
  /** … of at least this amount. */
  account_takeover_min_amount: number;
  /** Payees remembered per user (the most recent distinct ones). */
  max_payees: number;
  /**
   * Transfers to new payees a user holds until the watermark passes them (judged then
   * against the logins before them, whichever topic ran ahead); the oldest go first.
   */
  max_pending_transfers: number;
  /** Suspicious logins a user remembers for those transfers (the latest ones). */
  max_suspicious_logins: number;
  /**
   * `user.compromise_after_attack`: a successful login this long after the user was the
   * target of a spray, stuffing or brute-force alert.
   */
  compromise_window_ms: number;
  /**
   * Attacks a user remembers for it (the latest by time): more than come together, so
   * which are forgotten does not hang on whether their word or the login came first.
   */
  max_attacks: number;
  /**
   * Logins a user remembers for it (the latest, within the window of the newest): the
   * word of an attack and a login's score may come after later logins.
   */
  max_recent_logins: number;
  /**
   * Networks (/24) a user remembers logging in from, the last login's among them: home,
   * office, phone carrier, a parent's and a holiday place are not news.
   */
  max_known_networks: number;
}

/** Per-user transaction rules (docs/detections.md). */
export interface TxRules {
  /** `tx.large_amount`: an amount above the user's mean + this many standard deviations … */
  large_amount_sigma: number;
  /** … of (about) this many of the user's latest outgoing amounts (an exponential average) … */
  large_amount_history: number;
  /** … once the user has had at least this many; */
  large_amount_min_history: number;
  /**
   * or any amount above this cap, in euros (an amount in another currency of
   * `UNITS_PER_EUR` is converted first: 10,000 NOK is a month's rent, 10,000 EUR is not).
   */
  large_amount_cap: number;
  /** `tx.rapid_transfers`: more than this many transfers within the window. */
  rapid_transfers_max: number;
  rapid_transfers_window_ms: number;
}

/** Per-service rules (docs/detections.md), over log and metric events. */
export interface ServiceRules {
  /** `svc.error_burst`: more ERROR/FATAL logs than this within the window. */
  error_burst_max: number;
  error_burst_window_ms: number;
  /** `svc.high_cpu`: CPU (percent) above this … */
  high_cpu_percent: number;
  /** `svc.high_latency`: latency (ms) above this … */
  high_latency_ms: number;
  /** … for this many samples in a row (both rules, and `svc.metric_anomaly`). */
  sustained_samples: number;
  /** `svc.metric_anomaly`: |z| above this against the metric's own long-run average … */
  anomaly_z: number;
  /** … or outside the quartiles by this many interquartile ranges (last samples) … */
  anomaly_iqr: number;
  /** … once the metric has this many samples … */
  anomaly_min_samples: number;
  /** … and at least this many of the methods (z-score, IQR, EWMA, hour of day) agree. */
  anomaly_min_methods: number;
  /** Metrics (numeric fields) followed per service, at most. */
  max_metrics: number;
}

/** Where alerts are sent (Slack, a signed JSON webhook, Alertmanager), by severity. */
export interface NotifySettings {
  /** A Slack-compatible incoming-webhook URL (a secret: set it in the environment). */
  slack_url: string;
  slack_min_severity: string;
  /** A generic JSON webhook, each request signed with HMAC-SHA256 of its body … */
  webhook_url: string;
  /** … with this key (a secret: set it in the environment; empty: unsigned). */
  webhook_secret: string;
  webhook_min_severity: string;
  /** An Alertmanager base URL (alerts go to its `/api/v2/alerts`). */
  alertmanager_url: string;
  alertmanager_min_severity: string;
  /** Notifications waiting per target, at most (past this the newest are dropped, counted). */
  max_queued: number;
  /** Tries per notification before it is given up (counted). */
  max_attempts: number;
  backoff_min_ms: number;
  backoff_max_ms: number;
  /** One request's time limit. */
  timeout_ms: number;
}

/** Per-network-source rules over flow events (docs/detections.md, after Zeek's scan policy). */
export interface NetRules {
  /** `net.port_scan`: distinct ports of one host probed by a source within the window. */
  port_scan_ports: number;
  /** `net.address_scan`: distinct hosts probed on one port within the window. */
  address_scan_hosts: number;
  scan_window_ms: number;
  /** A flow counts as a probe with at most this many forward packets (failed or short). */
  probe_max_fwd_packets: number;
  /**
   * … and an answer of at most this many payload bytes in its largest backward packet
   * (`Bwd Packet Length Max`): a probe is refused or unanswered (a RST, a bare SYN-ACK, no
   * reply), as Zeek's scan policy counts failed attempts; a DNS query answered or a page
   * served is a connection, however short.
   */
  probe_max_bwd_bytes: number;
  /** Probes remembered per source (newest kept). */
  max_probes_tracked: number;
  /** `net.flood`: flows per minute from a source to one destination above its mean + z·σ … */
  flood_z: number;
  /** … and at least this many … */
  flood_min_flows: number;
  /** … once the pair has this many minutes of history. */
  flood_min_windows: number;
  /** Destinations followed per source, at most (the busiest kept). */
  max_flood_destinations: number;
}

/** Per-page counts and rules (docs/detections.md, the clickstream seed). */
export interface PageRules {
  /** Page views are counted in tumbling windows of this length (event time). */
  window_ms: number;
  /** Closed windows kept per page (and shown by the API). */
  history_windows: number;
  /** `click.traffic_spike`: a window's count above the page's recent mean + this many σ … */
  spike_z: number;
  /** … once the page has this many windows of history … */
  spike_min_windows: number;
  /** … and at least this many views in the window (small numbers never alert) … */
  spike_min_views: number;
  /**
   * … at least this many times the views expected: the same hour of the week's baseline
   * once it has `spike_min_windows` windows (a week of history), else the same hour of
   * the day's (a day), and never less than the recent mean …
   */
  spike_ratio: number;
  /** … and as unlikely as this for a Poisson count with that mean (its upper tail). */
  spike_p_value: number;
}

/** Per-IP rules (docs/detections.md), over failed logins re-keyed by source IP. */
export interface IpRules {
  /** `ip.password_spray`: users tried several times each from one IP (rounds of passwords). */
  spray_min_users: number;
  spray_min_attempts: number;
  /** A user counts towards a spray with this many failures from the IP, inclusive. */
  spray_min_per_user: number;
  spray_max_per_user: number;
  spray_window_ms: number;
  /**
   * `ip.credential_stuffing`: many users tried about once each from one IP (leaked pairs).
   * Failures that read as stuffing are not a spray as well: one campaign raises one.
   */
  stuffing_min_users: number;
  stuffing_min_attempts: number;
  stuffing_max_per_user: number;
  /** Share of the users tried at most `stuffing_max_per_user` times. */
  stuffing_min_share: number;
  stuffing_window_ms: number;
  /** `ip.throttle`: a token bucket of failed logins per IP holding this many … */
  throttle_capacity: number;
  /** … refilled by one every this long (100 a day: one per 14.4 min). */
  throttle_refill_ms: number;
  /** Failed logins remembered per IP (newest kept), enough for the rules above. */
  max_failures_tracked: number;
  /**
   * An address with at least this many successful logins per failed one over the last
   * hour is shared by real users (an office or a carrier's NAT): its spray, stuffing and
   * throttle alerts are held back. 0: never.
   */
  shared_success_ratio: number;
}

/** Alert hygiene. */
export interface AlertLimits {
  /** After an alert, the same rule and entity re-alerts only after this long. */
  cooldown_ms: number;
  /** Contributing event ids kept on one alert. */
  max_event_ids: number;
  /** Alerts kept by the in-memory store (oldest dropped first). */
  memory_store_max_alerts: number;
  /**
   * An alert no rule puts in an incident joins its entity's incident of this window of
   * event time (aligned to UTC): a user's chain, a source's scans, a service's trouble.
   */
  incident_window_ms: number;
  /** Alert ids and entities kept on one incident. */
  max_incident_members: number;
  /** Incidents kept by the in-memory store (oldest dropped first). */
  memory_store_max_incidents: number;
  /** Suppressions held (live and ended; the newest kept). */
  max_suppressions: number;
  /** Longest a suppression may last. */
  max_suppression_ms: number;
  /** Longest reason of a suppression, in characters. */
  max_reason_chars: number;
  /** How often a process reads the store's suppressions again (others' changes). */
  suppressions_refresh_ms: number;
}

/**
 * Bounds on what one event may hold, the same for the API, the Kafka intake and replay
 * (`events/validate.ts`). Past one, the event is dead-lettered with a reason naming the
 * field and the bound. Lengths are in characters (UTF-16 code units, JavaScript's
 * `length`).
 */
export interface InputLimits {
  /**
   * Longest identifier or key: event and entity ids (users, accounts, sessions, devices),
   * addresses, services, pages, countries, cities, currencies, counterparties.
   */
  max_key_chars: number;
  /** Longest free text: a log's message, a user agent, a failure reason, a referrer. */
  max_text_chars: number;
  /** Longest field name, at any depth (a metric's name is its field's name). */
  max_field_name_chars: number;
  /** Deepest nesting of objects and arrays, the event itself being level 1. */
  max_nesting_levels: number;
  /** Largest amount of a transaction (in its currency). */
  max_amount: number;
  /** Largest magnitude of a metric event's numbers (cpu, latency_ms, any gauge) and a click's latency. */
  max_metric_abs: number;
  /** Event times accepted: from this … */
  min_timestamp_ms: number;
  /** … to this (epoch ms; 9999-12-31T23:59:59.999Z, the last time ISO-8601 writes with 4 digits). */
  max_timestamp_ms: number;
}

/** The HTTP API. */
export interface ApiLimits {
  host: string;
  port: number;
  /** Largest request body accepted; larger gets 413. */
  max_body_bytes: number;
  /** Events in one ingest request. */
  max_events_per_request: number;
  /** Largest page of alerts returned. */
  max_alerts_page: number;
  /** Notes kept on one alert's or incident's triage (the newest). */
  max_triage_notes: number;
  /** Longest triage note, in characters. */
  max_note_chars: number;
  /** Longest assignee name, in characters. */
  max_assignee_chars: number;
  /**
   * Events `POST /api/v1/events` takes per second, on average (a token bucket; 0: no
   * limit). Over it: 429 with `Retry-After`, nothing taken in.
   */
  ingest_events_per_s: number;
  /** How many events the ingest bucket holds: a burst taken at once. */
  ingest_burst_events: number;
  /**
   * Watermark holds in place at once, at most (one per lane an accepted event goes to:
   * two for a login attempt, its user's and its IP's). The ingest holds each lane at the
   * event's time until the intake has taken the event, so an event answered "accepted"
   * is not found late after all. Full: 503 with `Retry-After`, nothing taken in.
   */
  max_watermark_holds: number;
  /** How long a watermark hold lasts at most, when the intake does not take its event. */
  max_hold_ms: number;
  /** Characters of an item's reason in an ingest answer's `items`, at most. */
  max_item_reason_chars: number;
  /**
   * A users file (JSON, `{"users": [{"name", "role", "token_hash"}]}`, hashes made by
   * `main.ts users add`): named principals beside ADMIN_TOKEN, ANALYST_TOKEN, VIEWER_TOKEN.
   * Empty: none. Read at start.
   */
  users_file: string;
  /** How long a console session lasts from sign-in. */
  session_ttl_ms: number;
  /** Sessions kept by a process at once, at most (past it, the oldest ends). */
  max_sessions: number;
  /** Verified user tokens remembered (each spares a scrypt), at most. */
  auth_cache_entries: number;
  /** Audit entries the embedded store keeps (the newest); MongoDB keeps them all. */
  memory_store_max_audit: number;
  /**
   * Time a request's head (request line and headers) may take to arrive, from the
   * connection's opening or the request's first byte; past it, 408 and the connection
   * closes (`io/http_server.ts`).
   */
  header_timeout_ms: number;
  /** Time a request's body may take to arrive after its head; past it, 408 and closed. */
  body_timeout_ms: number;
  /** A kept-alive connection with no request for this long is closed. */
  idle_timeout_ms: number;
}

/**
 * The offline IP database (`geo/database.ts`): a login with an address and no location is
 * given the country, city, coordinates and AS the database has for the address.
 */
export interface GeoSettings {
  /** Whether such events are looked up (the database loads at the first that needs it). */
  enabled: boolean;
  /** Addresses whose answer is kept, at most (0: none kept). */
  cache_entries: number;
}

/** The analyst console at `/` and its live stream (`api/console.ts`, `engine/stream.ts`). */
export interface ConsoleLimits {
  /** Clients of `GET /api/v1/stream` at once; one more gets 503 with `Retry-After`. */
  stream_max_clients: number;
  /**
   * Messages waiting for one slow stream client, at most; past it the oldest are dropped
   * and the client is told how many (`event: dropped`), so it reloads what it shows.
   */
  stream_client_buffer_messages: number;
  /** A comment line is sent this often on a quiet stream, so proxies and clients see it alive. */
  stream_heartbeat_ms: number;
  /** Width of one bar of a rule's alert volume (`GET /api/v1/alert-volume`), in seconds of event time. */
  volume_bucket_s: number;
  /** Bars kept per rule (the newest); older ones are forgotten. */
  volume_buckets: number;
  /** Rules whose volume is kept, at most (alerts of others are not counted). */
  volume_max_rules: number;
}

/** Model serving (ONNX, `models/service.ts`). */
export interface ModelSettings {
  /** Folder of the models: one sub-folder per model, with `v<version>.onnx` and manifests. */
  dir: string;
  /** Rows scored in one `session.run`, at most (the micro-batch). */
  max_batch_rows: number;
  /** How long a row waits for others before its batch runs anyway. */
  max_wait_ms: number;
  /** Rows asked for and not yet scored per model, at most; past this, scoring is refused. */
  max_queued_rows: number;
  /** onnxruntime intra-op threads per session (the other core is left to the event loop). */
  intra_op_threads: number;
  /** Drift counts one in this many scored rows (a sample: PSI needs no census). */
  drift_sample_every: number;
}

/**
 * The fewest users the simulator can run with: a credential-stuffing attack tries up to 35
 * distinct users.
 */
export const MIN_SIMULATED_USERS = 40;

/**
 * Units of a currency per euro, for `tx.large_amount_cap` (set in euros): the ECB's euro
 * reference rates of early 2026, rounded. An amount in a currency not listed is compared
 * with the cap as it is. A deployment keeps them current with its own rates.
 */
export const UNITS_PER_EUR: Readonly<Record<string, number>> = Object.freeze({
  EUR: 1,
  NOK: 11.6,
  SEK: 11.1,
  DKK: 7.46,
  ISK: 145,
  GBP: 0.86,
  CHF: 0.94,
  PLN: 4.25,
  CZK: 25,
  HUF: 400,
  USD: 1.08,
  CAD: 1.5,
  AUD: 1.65,
  JPY: 165,
  CNY: 7.8,
});

/**
 * Bounds of the benign-traffic generator (`sim/benign.ts`), which holds what it generates
 * in memory before sorting it: about 60 events per user and day with every stream on.
 */
export const BENIGN_LIMITS = Object.freeze({
  max_users: 100_000,
  max_days: 60,
  max_warmup_days: 30,
  max_events: 5_000_000,
});

/** The built-in simulator as run by `deno task start`. */
export interface SimulatorDefaults {
  events_per_second: number;
  users: number;
  seed: number;
  /** Seconds between injected attacks. */
  attack_interval_s: number;
  /** Whether `deno task start` runs the simulator. */
  enabled: boolean;
  /**
   * Background network flows per second of event time (with a flow attack every attack
   * interval), when a flow model with prototypes is loaded; 0: no flows. The default makes
   * attacks a few per cent of flows (about 4 %: the rotation's bursts, scans and floods
   * come to about 1.7 flows a second), as on a real network outside an incident.
   */
  flows_per_second: number;
  /**
   * Operations traffic too (services' metrics and logs, page views, their incidents and
   * payment incidents): page views per second (0: none of it).
   */
  clicks_per_second: number;
  /**
   * In `start`, the simulated traffic begins this long before now and is played at full
   * speed first (bounded per tick), so page and metric baselines exist and the slower
   * scenarios (a flood, a throttled IP, a takeover of a user with history) have fired
   * within a few minutes; then it runs in real time. 0: from now.
   */
  backfill_s: number;
  /**
   * In `start` with the simulator on and the embedded log, the resident actors at most (the
   * runtime's `max_resident_actors` unless that is set): the simulator's 50,000 users, their
   * addresses and the flows' sources are about 128,000 actors after the backfill, and the
   * one process holds them beside the embedded log and store. Past it the least recently
   * used are passivated, encoded off the heap.
   */
  max_resident_actors: number;
  /**
   * In `start`, the payment system fails this long after the live part begins (three in
   * four payments that would succeed come back `failed`), so the transaction success-rate
   * KPI alert shows; 0: never.
   */
  payment_outage_after_s: number;
  /** … and again this often after that (0: once). */
  payment_outage_every_s: number;
  /** How long each outage lasts. */
  payment_outage_s: number;
  /**
   * In `start` on the embedded store, the simulator also makes its traffic from the start
   * of the day (UTC) this many days back up to where the backfill begins, for the roll-ups
   * only: counted in the hourly and daily rows (yesterday's and today's trends), neither
   * detected nor kept, on a thread of its own (`sim/history_worker.ts`). 0: none.
   */
  history_days: number;
}

/** Where the log and the store are. Empty means the embedded ones. */
export interface IoSettings {
  /** Comma-separated `host:port` list (`KAFKA_BROKERS`); empty: the embedded log. */
  kafka_brokers: string;
  kafka_client_id: string;
  /** Consumer group of the workers. */
  kafka_group: string;
  /** Put before every topic name, so several deployments can share one cluster. */
  topic_prefix: string;
  /** A worker silent this long leaves the group and its partitions move (Kafka session timeout). */
  kafka_session_timeout_ms: number;
  /**
   * Largest produce request (bytes): bigger sends are split. Keep it under the brokers'
   * `message.max.bytes` (1048588 by default), or a backlog after an outage never goes out.
   */
  kafka_max_request_bytes: number;
  /**
   * The partitioner the producers place keys with: `murmur2` (Kafka's Java client,
   * kafkajs, librdkafka's `murmur2_random`) or `crc32` (librdkafka's default
   * `consistent_random` and `consistent`: kcat, confluent-kafka-python, Go, .NET). Actors
   * are placed by it; a record that arrives elsewhere is moved to its key's partition
   * (one hop more), so either works, but the right one saves the hop.
   */
  kafka_producer_partitioner: string;
  /**
   * Reach the brokers over TLS (`KAFKA_TLS`). On as well when a CA, certificate or key file
   * is set; without a CA file the system's CAs are trusted.
   */
  kafka_tls: boolean;
  /** PEM file of the CA (or CAs) that signed the brokers' certificates (`KAFKA_TLS_CA_FILE`). */
  kafka_tls_ca_file: string;
  /**
   * PEM client certificate and its unencrypted private key, for brokers that require one
   * (mutual TLS: `KAFKA_TLS_CERT_FILE`, `KAFKA_TLS_KEY_FILE`); set both or neither.
   */
  kafka_tls_cert_file: string;
  kafka_tls_key_file: string;
  /** SASL mechanism (`KAFKA_SASL_MECHANISM`): PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: none. */
  kafka_sasl_mechanism: string;
  kafka_sasl_username: string;
  /** The SASL password (`KAFKA_SASL_PASSWORD`; a secret, never printed) … */
  kafka_sasl_password: string;
  /** … or a file holding it (`KAFKA_SASL_PASSWORD_FILE`; one trailing newline is dropped). */
  kafka_sasl_password_file: string;
  /**
   * While Kafka cannot be reached at start (refused login, untrusted certificate, no
   * broker), the worker stays up, not ready, and tries again after this long, doubling …
   */
  kafka_connect_backoff_min_ms: number;
  /** … up to this. */
  kafka_connect_backoff_max_ms: number;
  /** MongoDB connection string (`MONGODB_URI`); empty: the in-memory store. */
  mongodb_uri: string;
  mongodb_database: string;
  /** How long a store call may take before it counts as failed. */
  store_timeout_ms: number;
  /** Dead letters are kept this long in MongoDB (TTL index). */
  dead_letter_retention_s: number;
  /**
   * Keep every valid event as it arrived in the store's `raw_events` archive (what
   * `GET /api/v1/events` queries). Unset, it is on with MongoDB and off in memory.
   */
  archive_raw_events: boolean;
  /** Archived events are kept this long (TTL index on MongoDB; the in-memory store keeps the newest). */
  archive_retention_s: number;
  /**
   * A partition with new input is checkpointed to the store at most this often, so a
   * takeover re-reads only what came after (0: never; a takeover re-reads the partition).
   */
  checkpoint_interval_ms: number;
  /** Tries at loading a checkpoint before a takeover reads the partition from its start. */
  checkpoint_restore_attempts: number;
}

/** The cluster supervisor (`main.ts cluster`). */
export interface ClusterSettings {
  /** Workers to run at start. */
  workers: number;
  /** Most workers the scale API accepts. */
  max_workers: number;
  /** Worker i listens on this port + i. */
  worker_base_port: number;
  /** Restarts of one worker slot within `restart_window_ms` before the cluster gives up. */
  max_restarts: number;
  restart_window_ms: number;
  restart_backoff_min_ms: number;
  restart_backoff_max_ms: number;
  /** Prometheus file-based service discovery target list to keep up to date ("": none). */
  sd_file: string;
}

/** Everything configurable, with its defaults. */
export interface Config {
  cluster: ClusterSettings;
  io: IoSettings;
  runtime: RuntimeLimits;
  supervision: SupervisionLimits;
  auth: AuthRules;
  tx: TxRules;
  user: UserChainRules;
  ip: IpRules;
  svc: ServiceRules;
  page: PageRules;
  net: NetRules;
  notify: NotifySettings;
  alerts: AlertLimits;
  input: InputLimits;
  api: ApiLimits;
  simulator: SimulatorDefaults;
  models: ModelSettings;
  geo: GeoSettings;
  console: ConsoleLimits;
  /** Largest raw event accepted, in bytes; larger ones are dead-lettered. */
  max_event_bytes: number;
  /** Dead letters kept by the in-memory store. */
  memory_store_max_dead_letters: number;
  /**
   * Raw events the in-memory archive keeps, newest (every archived event is counted in the
   * roll-ups all the same, whether kept or not).
   */
  memory_store_max_archived_events: number;
  /** Write every alert as a JSON line on stdout. */
  alerts_stdout: boolean;
  rules: RuleSettings;
  aggregate: AggregateSettings;
}

/** The roll-up job (`io/rollups.ts`, `engine/rollup_job.ts`). */
export interface AggregateSettings {
  /** Whether the process runs the scheduled roll-ups (one process at a time, by a lease). */
  enabled: boolean;
  /** How often the roll-ups run … */
  interval_ms: number;
  /** … give or take this share of it, at random (so workers do not run in step). */
  jitter: number;
  /** The first run, this long after the start. */
  first_run_delay_ms: number;
  /** Each run re-computes the hours back this far before the last run's end (late events). */
  lookback_ms: number;
  /** The first run (no run recorded) covers this far back. */
  first_lookback_ms: number;
  /** The lease one process holds while it runs the job; another takes over once it runs out. */
  lease_ms: number;
  /** Roll-up rows one statistics request reads, at most. */
  max_rows: number;
}

/** How the rules run. */
export interface RuleSettings {
  /** Rules that start in shadow mode (alerts marked `mode: "shadow"`), comma-separated. */
  shadow: string;
  /**
   * Alerts an hour (event time, every process together, suppressed ones apart) a rule may
   * raise before it is flagged over its budget; 0: no budget.
   */
  budget_per_hour: number;
  /** Per-rule budgets over the default: `rule=alerts_per_hour,…` (0: none for that rule). */
  budgets: string;
  /**
   * Rules moved from enforce to shadow mode when they go over their budget, comma-separated,
   * or `*` for every rule; "" (the default): flagged only.
   */
  auto_shadow: string;
  /** Resolution labels given within this many days make a rule's precision. */
  precision_window_days: number;
  /** How often a process reads the labels and the last hour's alert counts from the store. */
  feedback_refresh_ms: number;
  /** Cases whose triage changed in the window read at most (the newest kept). */
  max_labelled_cases: number;
}

const MINUTE = 60_000;

/** The key partitioners Vigil can follow (`io.kafka_producer_partitioner`). */
export const PARTITIONERS = ["murmur2", "crc32"] as const;

/**
 * `murmur2`: Kafka's Java client, kafkajs, librdkafka's `murmur2_random`.
 * `crc32`: librdkafka's default (`consistent_random`) and `consistent`.
 */
export type PartitionerName = (typeof PARTITIONERS)[number];

/** The defaults. Sources of each detection number are in docs/detections.md. */
export const defaults: Readonly<Config> = Object.freeze({
  cluster: {
    workers: 3,
    max_workers: 32,
    worker_base_port: 9101,
    max_restarts: 5,
    restart_window_ms: MINUTE,
    restart_backoff_min_ms: 500,
    restart_backoff_max_ms: 30_000,
    sd_file: "",
  },
  io: {
    kafka_brokers: "",
    kafka_client_id: "vigil",
    kafka_group: "vigil",
    topic_prefix: "",
    kafka_session_timeout_ms: 30_000,
    kafka_max_request_bytes: 1_000_000,
    kafka_producer_partitioner: "murmur2",
    kafka_tls: false,
    kafka_tls_ca_file: "",
    kafka_tls_cert_file: "",
    kafka_tls_key_file: "",
    kafka_sasl_mechanism: "",
    kafka_sasl_username: "",
    kafka_sasl_password: "",
    kafka_sasl_password_file: "",
    kafka_connect_backoff_min_ms: 1_000,
    kafka_connect_backoff_max_ms: 30_000,
    mongodb_uri: "",
    mongodb_database: "vigil",
    store_timeout_ms: 5_000,
    dead_letter_retention_s: 7 * 24 * 3600,
    archive_raw_events: false,
    archive_retention_s: 7 * 24 * 3600,
    checkpoint_interval_ms: MINUTE,
    checkpoint_restore_attempts: 5,
  },
  runtime: {
    mailbox_capacity: 1024,
    max_resident_actors: 2_000_000,
    idle_timeout_ms: 30 * MINUTE,
    snapshot_max_shapes: 4_096,
    snapshot_min_compact_bytes: 8 << 20,
    sweep_interval_ms: 1_000,
    sweep_max_actors: 20_000,
    allowed_lateness_ms: 60_000,
    max_future_ms: 10 * MINUTE,
    max_batch_events: 2_000,
    max_batches_in_flight: 4,
    partitions_in_parallel: 12,
    partitions: 12,
    log_retention_records: 50_000,
    log_keep_consumed_records: 1_000,
    turn_ms: 20,
    idle_watermark_delay_ms: 5 * MINUTE,
    repartition_progress_ms: 1_000,
    repartition_wait_ms: 30_000,
    max_replay_events: 20_000_000,
    replay_threads: 2,
    replay_chunk_lines: 4_096,
    replay_chunks_in_flight: 4,
  },
  supervision: {
    max_message_retries: 3,
    max_restarts_per_key: 5,
    restart_window_ms: MINUTE,
    backoff_min_ms: 10,
    backoff_max_ms: 1_000,
    backoff_jitter: 0.2,
    quarantine_ms: 10 * MINUTE,
    max_failures_per_partition: 100,
    partition_window_ms: MINUTE,
    max_partition_restarts: 10,
    root_window_ms: MINUTE,
  },
  auth: {
    brute_force_failures: 5,
    brute_force_window_ms: 5 * MINUTE,
    brute_force_lock_step_ms: MINUTE,
    brute_force_lock_max_ms: 15 * MINUTE,
    brute_force_reset_ms: 12 * 60 * MINUTE,
    success_after_failures_min: 5,
    success_after_failures_window_ms: 5 * MINUTE,
    max_failures_tracked: 32,
    session_idle_timeout_ms: 30 * MINUTE,
    max_sessions_per_user: 8,
    risky_login_low: 0.5,
    risky_login_medium: 0.8,
    risky_login_high: 0.95,
    impossible_travel_speed_kmh: 900,
    impossible_travel_min_km: 500,
    new_device_min_logins: 5,
  },
  tx: {
    large_amount_sigma: 3,
    large_amount_history: 50,
    large_amount_min_history: 10,
    large_amount_cap: 10_000,
    rapid_transfers_max: 5,
    rapid_transfers_window_ms: MINUTE,
  },
  user: {
    account_takeover_window_ms: 30 * MINUTE,
    account_takeover_min_amount: 1_000,
    max_payees: 16,
    max_pending_transfers: 16,
    max_suspicious_logins: 4,
    compromise_window_ms: 180 * MINUTE,
    max_attacks: 16,
    max_recent_logins: 8,
    max_known_networks: 8,
  },
  svc: {
    error_burst_max: 20,
    error_burst_window_ms: MINUTE,
    high_cpu_percent: 85,
    high_latency_ms: 400,
    sustained_samples: 3,
    anomaly_z: 3,
    anomaly_iqr: 1.5,
    anomaly_min_samples: 30,
    anomaly_min_methods: 2,
    max_metrics: 16,
  },
  notify: {
    slack_url: "",
    slack_min_severity: "high",
    webhook_url: "",
    webhook_secret: "",
    webhook_min_severity: "low",
    alertmanager_url: "",
    alertmanager_min_severity: "medium",
    max_queued: 10_000,
    max_attempts: 8,
    backoff_min_ms: 1_000,
    backoff_max_ms: 300_000,
    timeout_ms: 5_000,
  },
  net: {
    port_scan_ports: 15,
    address_scan_hosts: 25,
    scan_window_ms: 5 * MINUTE,
    probe_max_fwd_packets: 3,
    probe_max_bwd_bytes: 0,
    max_probes_tracked: 512,
    flood_z: 3,
    flood_min_flows: 100,
    flood_min_windows: 10,
    max_flood_destinations: 16,
  },
  page: {
    window_ms: MINUTE,
    history_windows: 60,
    spike_z: 3,
    spike_min_windows: 30,
    spike_min_views: 20,
    spike_ratio: 3,
    spike_p_value: 1e-6,
  },
  ip: {
    spray_min_users: 5,
    spray_min_attempts: 15,
    spray_min_per_user: 3,
    spray_max_per_user: 8,
    spray_window_ms: 60 * MINUTE,
    stuffing_min_users: 15,
    stuffing_min_attempts: 25,
    stuffing_max_per_user: 1,
    stuffing_min_share: 0.8,
    stuffing_window_ms: 60 * MINUTE,
    throttle_capacity: 100,
    throttle_refill_ms: 864_000,
    max_failures_tracked: 512,
    shared_success_ratio: 1,
  },
  alerts: {
    cooldown_ms: 15 * MINUTE,
    max_event_ids: 20,
    memory_store_max_alerts: 100_000,
    incident_window_ms: 60 * MINUTE,
    max_incident_members: 200,
    memory_store_max_incidents: 20_000,
    max_suppressions: 1_000,
    max_suppression_ms: 30 * 24 * 60 * MINUTE,
    max_reason_chars: 1_000,
    suppressions_refresh_ms: 5_000,
  },
  input: {
    max_key_chars: 256,
    max_text_chars: 8_192,
    max_field_name_chars: 128,
    max_nesting_levels: 32,
    max_amount: 1e15,
    max_metric_abs: 1e15,
    min_timestamp_ms: 0,
    max_timestamp_ms: 253_402_300_799_999,
  },
  api: {
    host: "127.0.0.1",
    port: 8080,
    max_body_bytes: 1_048_576,
    max_events_per_request: 10_000,
    max_alerts_page: 1_000,
    max_triage_notes: 100,
    max_note_chars: 4_000,
    max_assignee_chars: 128,
    ingest_events_per_s: 20_000,
    ingest_burst_events: 100_000,
    max_watermark_holds: 100_000,
    max_hold_ms: MINUTE,
    max_item_reason_chars: 300,
    users_file: "",
    session_ttl_ms: 8 * 3_600_000,
    max_sessions: 1_000,
    auth_cache_entries: 1_000,
    memory_store_max_audit: 100_000,
    header_timeout_ms: 10_000,
    body_timeout_ms: 30_000,
    idle_timeout_ms: 60_000,
  },
  simulator: {
    events_per_second: 200,
    users: 50_000,
    seed: 42,
    attack_interval_s: 60,
    enabled: true,
    flows_per_second: 15,
    clicks_per_second: 5,
    backfill_s: 2_700,
    max_resident_actors: 20_000,
    payment_outage_after_s: 1_200,
    payment_outage_every_s: 3_600,
    payment_outage_s: 600,
    history_days: 1,
  },
  models: {
    dir: "models",
    max_batch_rows: 256,
    max_wait_ms: 2,
    max_queued_rows: 65_536,
    intra_op_threads: 1,
    drift_sample_every: 8,
  },
  geo: {
    enabled: true,
    cache_entries: 10_000,
  },
  console: {
    stream_max_clients: 32,
    stream_client_buffer_messages: 1_000,
    stream_heartbeat_ms: 15_000,
    volume_bucket_s: 60,
    volume_buckets: 24 * 60,
    volume_max_rules: 100,
  },
  max_event_bytes: 1_048_576,
  memory_store_max_dead_letters: 100_000,
  memory_store_max_archived_events: 20_000,
  alerts_stdout: false,
  rules: {
    shadow: "",
    budget_per_hour: 120,
    budgets: "",
    auto_shadow: "",
    precision_window_days: 7,
    feedback_refresh_ms: 5_000,
    max_labelled_cases: 50_000,
  },
  aggregate: {
    enabled: true,
    interval_ms: 5 * MINUTE,
    jitter: 0.1,
    first_run_delay_ms: 5_000,
    lookback_ms: 2 * 3_600_000,
    first_lookback_ms: 2 * 86_400_000,
    lease_ms: 10 * MINUTE,
    max_rows: 50_000,
  },
});
