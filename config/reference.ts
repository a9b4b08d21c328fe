/**
 * What each setting means: the configuration reference, `docs/configuration.md`, is
 * generated from these, the defaults (`defaults.ts`) and the short names (`load.ts`) by
 * `deno task docs:config`, and `tests/integration/docs_test.ts` keeps it equal. A new
 * setting needs its line here (the test names the missing ones); the order here is the
 * reference's.
 *
 * @module
 */

/** Settings read beside the defaults (the principals' tokens): their default as shown. */
export const PRINCIPAL_SETTINGS: readonly { variable: string; shown: string; meaning: string }[] = [
  {
    variable: "ADMIN_TOKEN",
    shown: "random",
    meaning: "the `admin` principal's bearer token for `/api/v1` and the console",
  },
  {
    variable: "ANALYST_TOKEN",
    shown: "empty",
    meaning: "an `analyst` principal's token (empty: none)",
  },
  {
    variable: "VIEWER_TOKEN",
    shown: "empty",
    meaning: "a `viewer` principal's token (empty: none)",
  },
];

/** Each `VIGIL_…` setting's meaning, in the reference's order. */
export const MEANINGS: Readonly<Record<string, string>> = {
  VIGIL_IO_KAFKA_BROKERS: "comma-separated `host:port` bootstrap list; empty: the embedded log",
  VIGIL_IO_KAFKA_CLIENT_ID: "Kafka client id",
  VIGIL_IO_KAFKA_GROUP: "consumer group of the workers",
  VIGIL_IO_TOPIC_PREFIX: "put before every topic name, so several deployments can share a cluster",
  VIGIL_IO_KAFKA_SESSION_TIMEOUT_MS:
    "a worker silent this long leaves the group and its partitions move",
  VIGIL_IO_KAFKA_MAX_REQUEST_BYTES:
    "largest produce request; bigger sends are split (keep it under the brokers' `message.max.bytes`)",
  VIGIL_IO_KAFKA_PRODUCER_PARTITIONER:
    "how your producers place keys: `murmur2` (Java client, kafkajs) or `crc32` (librdkafka's default: kcat, confluent-kafka-python, Go, .NET); actors are placed the same way",
  VIGIL_IO_KAFKA_TLS:
    "reach the brokers over TLS; on as well when a CA, certificate or key file is set; no CA file: the system's CAs",
  VIGIL_IO_KAFKA_TLS_CA_FILE: "PEM file of the CA (or CAs) that signed the brokers' certificates",
  VIGIL_IO_KAFKA_TLS_CERT_FILE:
    "PEM client certificate, for brokers that require one (mutual TLS); set with the key",
  VIGIL_IO_KAFKA_TLS_KEY_FILE: "its unencrypted PEM private key (its contents are never shown)",
  VIGIL_IO_KAFKA_SASL_MECHANISM:
    "`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`; empty: no SASL login",
  VIGIL_IO_KAFKA_SASL_USERNAME: "the SASL user",
  VIGIL_IO_KAFKA_SASL_PASSWORD: "its password (a secret, shown as `***`)",
  VIGIL_IO_KAFKA_SASL_PASSWORD_FILE:
    "or a file holding it (one trailing newline dropped), e.g. a mounted secret",
  VIGIL_IO_KAFKA_CONNECT_BACKOFF_MIN_MS:
    "while Kafka cannot be reached at start (refused login, untrusted certificate, no broker) a worker stays up, not ready, and retries after this, doubling",
  VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS: "that delay's ceiling",
  VIGIL_IO_MONGODB_URI: "MongoDB connection string; empty: the in-memory store",
  VIGIL_IO_MONGODB_DATABASE: "database name",
  VIGIL_IO_STORE_TIMEOUT_MS: "how long a store call may take before it counts as failed",
  VIGIL_IO_DEAD_LETTER_RETENTION_S: "dead letters kept this long in MongoDB (TTL index)",
  VIGIL_IO_ARCHIVE_RAW_EVENTS:
    "keep every valid event as it arrived in the `raw_events` archive (`GET /api/v1/events`, `GET /api/v1/archive`) and count it in the roll-ups; unset, it is on with MongoDB (kept `VIGIL_IO_ARCHIVE_RETENTION_S`) and in `deno task start` on the embedded store (counted, the newest `VIGIL_MEMORY_STORE_MAX_ARCHIVED_EVENTS` kept)",
  VIGIL_IO_ARCHIVE_RETENTION_S:
    "archived events kept this long (TTL index on MongoDB; the in-memory store keeps the newest)",
  VIGIL_IO_CHECKPOINT_INTERVAL_MS:
    "a partition with new input is checkpointed at most this often; 0: never (a takeover re-reads the partition)",
  VIGIL_IO_CHECKPOINT_RESTORE_ATTEMPTS:
    "tries at loading a checkpoint before a takeover reads the partition from its start",
  VIGIL_CLUSTER_WORKERS: "workers `main.ts cluster` starts (`--workers` overrides)",
  VIGIL_CLUSTER_MAX_WORKERS: "most workers the scale API accepts",
  VIGIL_CLUSTER_WORKER_BASE_PORT: "worker _i_ listens on this port + _i_",
  VIGIL_CLUSTER_MAX_RESTARTS:
    "restarts of one worker within the window before the cluster gives up",
  VIGIL_CLUSTER_RESTART_WINDOW_MS: "that window",
  VIGIL_CLUSTER_RESTART_BACKOFF_MIN_MS: "first restart delay",
  VIGIL_CLUSTER_RESTART_BACKOFF_MAX_MS: "restart delay ceiling",
  VIGIL_CLUSTER_SD_FILE: "Prometheus file-based service-discovery target list to keep up to date",
  VIGIL_RUNTIME_MAILBOX_CAPACITY: "messages one actor may hold waiting; past it the sender waits",
  VIGIL_RUNTIME_MAX_RESIDENT_ACTORS:
    "actors in memory at once; past it the least recently used are passivated",
  VIGIL_RUNTIME_IDLE_TIMEOUT_MS:
    "an actor with no message for this long is passivated: its state kept encoded, off the JS heap (docs/passivation.md)",
  VIGIL_RUNTIME_SNAPSHOT_MAX_SHAPES:
    "key sets of states the snapshot encoding numbers; an object of another key set carries its keys",
  VIGIL_RUNTIME_SNAPSHOT_MIN_COMPACT_BYTES:
    "the embedded snapshot store copies its live states to fresh slabs once freed bytes pass both the live bytes and this",
  VIGIL_RUNTIME_SWEEP_INTERVAL_MS: "how often the idle sweep and the watermark tick run",
  VIGIL_RUNTIME_SWEEP_MAX_ACTORS: "actors one sweep looks at, at most",
  VIGIL_RUNTIME_ALLOWED_LATENESS_MS: "how far behind the highest event time an event still counts",
  VIGIL_RUNTIME_MAX_FUTURE_MS: "events further ahead of the clock are dead-lettered",
  VIGIL_RUNTIME_MAX_BATCH_EVENTS: "events taken from one partition at once",
  VIGIL_RUNTIME_MAX_BATCHES_IN_FLIGHT:
    "batches handled while earlier ones' alerts are still being stored and produced (offsets are committed in order, each once its batch is durable); in a replay, batches fed while earlier ones settle",
  VIGIL_RUNTIME_PARTITIONS_IN_PARALLEL:
    "partitions whose batches are handled at once (Kafka): their waits for the store, producer and commits overlap and their flushes share requests",
  VIGIL_RUNTIME_PARTITIONS: "partitions of every input topic",
  VIGIL_RUNTIME_LOG_RETENTION_RECORDS:
    "records the embedded log keeps per partition at most (the oldest dropped first, read or not)",
  VIGIL_RUNTIME_LOG_KEEP_CONSUMED_RECORDS:
    "of a topic the embedded log's readers read, records kept per partition past what all of them committed",
  VIGIL_RUNTIME_TURN_MS:
    "the embedded log's readers and the simulator's backfill work this long per turn of the event loop at most, so the API and /metrics answer under a backlog (each wait costs 1-4 ms)",
  VIGIL_RUNTIME_IDLE_WATERMARK_DELAY_MS:
    "a partition with no event for this long lets its event time go on with the clock (timers fire when traffic stops)",
  VIGIL_RUNTIME_REPARTITION_PROGRESS_MS:
    "how often in event time a partition tells the others, through `vigil-repartition`, how far it has read",
  VIGIL_RUNTIME_REPARTITION_WAIT_MS:
    "a lane starting waits this long for each other partition's word (some have nothing of a kind to move), then goes on without the silent ones",
  VIGIL_RUNTIME_MAX_REPLAY_EVENTS: "events replay may hold to sort an unsorted file",
  VIGIL_RUNTIME_REPLAY_THREADS:
    "worker threads replay runs its actors on (groups: users and IPs; network sources; services and pages; at most 3); 1 runs them on the main thread; the same alerts either way",
  VIGIL_RUNTIME_REPLAY_CHUNK_LINES: "lines replay hands a worker thread at once",
  VIGIL_RUNTIME_REPLAY_CHUNKS_IN_FLIGHT:
    "chunks handed to a worker thread and not yet done, at most (bounds the lines held)",
  VIGIL_SUPERVISION_MAX_MESSAGE_RETRIES: "retries of a failing message before it is dead-lettered",
  VIGIL_SUPERVISION_MAX_RESTARTS_PER_KEY:
    "restarts of one key within the window before it is quarantined",
  VIGIL_SUPERVISION_RESTART_WINDOW_MS: "that window",
  VIGIL_SUPERVISION_BACKOFF_MIN_MS: "first retry delay",
  VIGIL_SUPERVISION_BACKOFF_MAX_MS: "retry delay ceiling",
  VIGIL_SUPERVISION_BACKOFF_JITTER: "random fraction added to each delay",
  VIGIL_SUPERVISION_QUARANTINE_MS: "how long a quarantined key's messages are dead-lettered",
  VIGIL_SUPERVISION_MAX_FAILURES_PER_PARTITION:
    "failures in a partition within its window before it escalates",
  VIGIL_SUPERVISION_PARTITION_WINDOW_MS: "that window",
  VIGIL_SUPERVISION_MAX_PARTITION_RESTARTS:
    "partition restarts within the root's window; past them the root holds (no more restarts), never stopping the process",
  VIGIL_SUPERVISION_ROOT_WINDOW_MS: "that window",
  VIGIL_AUTH_BRUTE_FORCE_FAILURES: "failures that fire `auth.brute_force`",
  VIGIL_AUTH_BRUTE_FORCE_WINDOW_MS: "its window",
  VIGIL_AUTH_BRUTE_FORCE_LOCK_STEP_MS: "lock hint added per escalation step",
  VIGIL_AUTH_BRUTE_FORCE_LOCK_MAX_MS: "lock hint ceiling",
  VIGIL_AUTH_BRUTE_FORCE_RESET_MS: "quiet time after which the failure counter resets",
  VIGIL_AUTH_SUCCESS_AFTER_FAILURES_MIN:
    "failures from the success's IP that fire `auth.success_after_failures`",
  VIGIL_AUTH_SUCCESS_AFTER_FAILURES_WINDOW_MS: "its window",
  VIGIL_AUTH_MAX_FAILURES_TRACKED: "recent failures remembered per user",
  VIGIL_AUTH_SESSION_IDLE_TIMEOUT_MS: "a session closes after this long without activity",
  VIGIL_AUTH_MAX_SESSIONS_PER_USER: "open sessions remembered per user (oldest closed first)",
  VIGIL_AUTH_RISKY_LOGIN_LOW:
    "`auth.risky_login`: risk from the login-risk model alerted at level low (allow)",
  VIGIL_AUTH_RISKY_LOGIN_MEDIUM: "… at level medium (step-up)",
  VIGIL_AUTH_RISKY_LOGIN_HIGH: "… at level high (block)",
  VIGIL_AUTH_IMPOSSIBLE_TRAVEL_SPEED_KMH:
    "`auth.impossible_travel`: speed between two logins above which it fires …",
  VIGIL_AUTH_IMPOSSIBLE_TRAVEL_MIN_KM: "… when they are also further apart than this",
  VIGIL_AUTH_NEW_DEVICE_MIN_LOGINS:
    "`auth.new_device_location`: logins before a new device or country alerts",
  VIGIL_TX_LARGE_AMOUNT_SIGMA: "`tx.large_amount`: standard deviations above the user's mean …",
  VIGIL_TX_LARGE_AMOUNT_HISTORY:
    "… of about this many latest outgoing amounts (exponential average) …",
  VIGIL_TX_LARGE_AMOUNT_MIN_HISTORY: "… once the user has this many",
  VIGIL_TX_LARGE_AMOUNT_CAP: "`tx.large_amount`: any amount above this",
  VIGIL_TX_RAPID_TRANSFERS_MAX:
    "`tx.rapid_transfers`: more transfers than this in the window fire it",
  VIGIL_TX_RAPID_TRANSFERS_WINDOW_MS: "its window",
  VIGIL_RULES_SHADOW:
    "rules that start in shadow mode, comma-separated (e.g. `auth.new_device_location,tx.large_amount`)",
  VIGIL_RULES_BUDGET_PER_HOUR:
    "alerts an hour (event time, every process together, suppressed ones apart) a rule may raise before it is flagged over its budget; 0: no budget",
  VIGIL_RULES_BUDGETS:
    "per-rule budgets over that default, e.g. `ip.throttle=300,auth.brute_force=50` (0: none for that rule)",
  VIGIL_RULES_AUTO_SHADOW:
    "rules moved from enforce to shadow mode as they go over their budget, comma-separated, or `*` for all; otherwise only flagged",
  VIGIL_RULES_PRECISION_WINDOW_DAYS:
    "resolution labels given within this many days (wall clock) make each rule's precision",
  VIGIL_RULES_FEEDBACK_REFRESH_MS:
    "how often a process reads the labels and the last hour's alert counts from the store (its own labels count at once)",
  VIGIL_RULES_MAX_LABELLED_CASES:
    "cases whose triage changed within the window read at most, the newest first",
  VIGIL_AGGREGATE_ENABLED:
    "run the scheduled roll-ups (hourly and daily counts of the archive and the alerts, `GET /api/v1/stats`); one process of a cluster at a time, by a lease in the store",
  VIGIL_AGGREGATE_INTERVAL_MS: "how often the roll-ups run …",
  VIGIL_AGGREGATE_JITTER: "… give or take this share of it, at random",
  VIGIL_AGGREGATE_FIRST_RUN_DELAY_MS: "the first run, this long after the start",
  VIGIL_AGGREGATE_LOOKBACK_MS:
    "each run recomputes the hours from this long before the last run's end (late events)",
  VIGIL_AGGREGATE_FIRST_LOOKBACK_MS: "the first run (none recorded) covers this far back",
  VIGIL_AGGREGATE_LEASE_MS:
    "the lease one process holds on the job; another takes over once it runs out",
  VIGIL_AGGREGATE_MAX_ROWS:
    "roll-up rows one `GET /api/v1/stats` reads, at most (`truncated` says so)",
  VIGIL_USER_ACCOUNT_TAKEOVER_WINDOW_MS:
    "`user.account_takeover`: time from the suspicious login to the transfer",
  VIGIL_USER_ACCOUNT_TAKEOVER_MIN_AMOUNT: "… and the transfer's floor",
  VIGIL_USER_MAX_PAYEES: "payees remembered per user (most recent distinct)",
  VIGIL_USER_MAX_PENDING_TRANSFERS:
    "transfers to new payees a user holds until the watermark passes them (`user.account_takeover`)",
  VIGIL_USER_MAX_SUSPICIOUS_LOGINS:
    "suspicious logins a user remembers for those transfers (the latest)",
  VIGIL_USER_COMPROMISE_WINDOW_MS:
    "`user.compromise_after_attack`: a success this long after the user was attacked",
  VIGIL_USER_MAX_ATTACKS:
    "attacks a user remembers for `user.compromise_after_attack` (the latest by time)",
  VIGIL_USER_MAX_RECENT_LOGINS:
    "logins a user remembers for `user.compromise_after_attack` (the latest, within its window): the word of an attack or a score may come after later logins",
  VIGIL_USER_MAX_KNOWN_NETWORKS:
    "networks (/24) a user remembers logging in from (home, office, carrier, holidays): a login from one is not from a new network",
  VIGIL_IP_SPRAY_MIN_USERS: "`ip.password_spray`: users with 2–8 failures each from the IP",
  VIGIL_IP_SPRAY_MIN_ATTEMPTS: "`ip.password_spray`: failures of those users",
  VIGIL_IP_SPRAY_MIN_PER_USER: "a user counts towards a spray from this many failures …",
  VIGIL_IP_SPRAY_MAX_PER_USER: "… up to this many",
  VIGIL_IP_SPRAY_WINDOW_MS: "`ip.password_spray` window",
  VIGIL_IP_STUFFING_MIN_USERS: "`ip.credential_stuffing`: users tried from the IP",
  VIGIL_IP_STUFFING_MIN_ATTEMPTS: "`ip.credential_stuffing`: failures from the IP",
  VIGIL_IP_STUFFING_MAX_PER_USER: "a user tried at most this often counts as a stuffing target …",
  VIGIL_IP_STUFFING_MIN_SHARE: "… and at least this share of the users must be",
  VIGIL_IP_STUFFING_WINDOW_MS: "`ip.credential_stuffing` window",
  VIGIL_IP_THROTTLE_CAPACITY: "`ip.throttle`: failed logins an IP's token bucket holds",
  VIGIL_IP_THROTTLE_REFILL_MS: "one token back every this long (100 a day)",
  VIGIL_IP_MAX_FAILURES_TRACKED: "failed logins remembered per IP (newest kept)",
  VIGIL_IP_SHARED_SUCCESS_RATIO:
    "successful logins per failed one over the last hour at which an IP counts as shared (office NAT): no spray, stuffing or throttle alerts from it; `0`: never",
  VIGIL_SVC_ERROR_BURST_MAX: "`svc.error_burst`: more ERROR/FATAL logs than this …",
  VIGIL_SVC_ERROR_BURST_WINDOW_MS: "… within this window",
  VIGIL_SVC_HIGH_CPU_PERCENT: "`svc.high_cpu`: CPU above this …",
  VIGIL_SVC_HIGH_LATENCY_MS: "`svc.high_latency`: latency above this …",
  VIGIL_SVC_SUSTAINED_SAMPLES: "… for this many samples in a row (also `svc.metric_anomaly`)",
  VIGIL_SVC_ANOMALY_Z: "`svc.metric_anomaly`: z-score limit (long-run, EWMA band, hour of day)",
  VIGIL_SVC_ANOMALY_IQR: "interquartile ranges beyond the quartiles",
  VIGIL_SVC_ANOMALY_MIN_SAMPLES: "samples before a metric is judged",
  VIGIL_SVC_ANOMALY_MIN_METHODS: "methods that must agree",
  VIGIL_SVC_MAX_METRICS: "metrics followed per service",
  VIGIL_NOTIFY_SLACK_URL:
    "a Slack-compatible incoming-webhook URL (a secret: set it in the environment)",
  VIGIL_NOTIFY_SLACK_MIN_SEVERITY: "alerts of at least this severity go to Slack",
  VIGIL_NOTIFY_WEBHOOK_URL: 'a JSON webhook: `POST {"alerts": [...]}`',
  VIGIL_NOTIFY_WEBHOOK_SECRET:
    'HMAC-SHA256 key: `X-Vigil-Signature: sha256=hex(hmac(key, "<X-Vigil-Timestamp>.<body>"))`',
  VIGIL_NOTIFY_WEBHOOK_MIN_SEVERITY: "alerts of at least this severity go to the webhook",
  VIGIL_NOTIFY_ALERTMANAGER_URL: "an Alertmanager base URL (`/api/v2/alerts`)",
  VIGIL_NOTIFY_ALERTMANAGER_MIN_SEVERITY: "alerts of at least this severity go to Alertmanager",
  VIGIL_NOTIFY_MAX_QUEUED:
    "notifications waiting per target (past this the newest are dropped, counted)",
  VIGIL_NOTIFY_MAX_ATTEMPTS: "tries per notification before it is given up (counted)",
  VIGIL_NOTIFY_BACKOFF_MIN_MS: "first retry delay (doubling) …",
  VIGIL_NOTIFY_BACKOFF_MAX_MS: "… up to this",
  VIGIL_NOTIFY_TIMEOUT_MS: "one request's time limit",
  VIGIL_NET_PORT_SCAN_PORTS: "`net.port_scan`: distinct ports of one host probed by a source …",
  VIGIL_NET_ADDRESS_SCAN_HOSTS: "`net.address_scan`: distinct hosts probed on one port …",
  VIGIL_NET_SCAN_WINDOW_MS: "… within this window",
  VIGIL_NET_PROBE_MAX_FWD_PACKETS: "a flow with at most this many forward packets is a probe",
  VIGIL_NET_PROBE_MAX_BWD_BYTES:
    "… and no more payload bytes back than this (an answered query is no probe)",
  VIGIL_NET_MAX_PROBES_TRACKED: "probes remembered per source (newest kept)",
  VIGIL_NET_FLOOD_Z: "`net.flood`: σ above the pair's mean …",
  VIGIL_NET_FLOOD_MIN_FLOWS: "… with at least this many flows in the minute …",
  VIGIL_NET_FLOOD_MIN_WINDOWS: "… after this many minutes of history",
  VIGIL_NET_MAX_FLOOD_DESTINATIONS: "destinations followed per source (the busiest kept)",
  VIGIL_PAGE_WINDOW_MS: "page views are counted in tumbling windows of this length",
  VIGIL_PAGE_HISTORY_WINDOWS: "closed windows kept per page (and the baseline's span)",
  VIGIL_PAGE_SPIKE_Z: "`click.traffic_spike`: σ above the page's mean",
  VIGIL_PAGE_SPIKE_MIN_WINDOWS: "windows of history before it can fire",
  VIGIL_PAGE_SPIKE_MIN_VIEWS: "views a window needs to be a spike",
  VIGIL_PAGE_SPIKE_RATIO:
    "… times the views expected for its hour (the same hour of the week or day, never below the recent mean)",
  VIGIL_PAGE_SPIKE_P_VALUE: "… and a Poisson upper tail at most this at the expected mean",
  VIGIL_ALERTS_COOLDOWN_MS: "one alert per rule and entity per cool-down",
  VIGIL_ALERTS_MAX_EVENT_IDS: "contributing event ids kept on an alert",
  VIGIL_ALERTS_MEMORY_STORE_MAX_ALERTS: "alerts the in-memory store keeps",
  VIGIL_ALERTS_INCIDENT_WINDOW_MS:
    "an alert no rule puts in an incident joins its entity's incident of this window of event time (UTC-aligned)",
  VIGIL_ALERTS_MAX_INCIDENT_MEMBERS: "alert ids and entities kept on one incident",
  VIGIL_ALERTS_MEMORY_STORE_MAX_INCIDENTS: "incidents the in-memory store keeps",
  VIGIL_ALERTS_MAX_SUPPRESSIONS: "suppressions held (live and ended; the newest kept)",
  VIGIL_ALERTS_MAX_SUPPRESSION_MS: "longest a suppression may last (30 days)",
  VIGIL_ALERTS_MAX_REASON_CHARS: "longest reason of a suppression, in characters",
  VIGIL_ALERTS_SUPPRESSIONS_REFRESH_MS:
    "how often a process reads the store's suppressions again (other processes' changes)",
  VIGIL_INPUT_MAX_KEY_CHARS:
    "longest id or key, in characters: event, user, account, session and device ids, IPs, services, pages, countries, cities, currencies, counterparties",
  VIGIL_INPUT_MAX_TEXT_CHARS:
    "longest free text, in characters: a log's message, a user agent, a failure reason, a referrer",
  VIGIL_INPUT_MAX_FIELD_NAME_CHARS:
    "longest field name at any depth (a metric's name is its field's name)",
  VIGIL_INPUT_MAX_NESTING_LEVELS:
    "deepest nesting of objects and arrays in an event (the event itself is level 1)",
  VIGIL_INPUT_MAX_AMOUNT: "largest transaction amount",
  VIGIL_INPUT_MAX_METRIC_ABS:
    "largest magnitude of a metric event's numbers (`cpu`, `latency_ms`, any gauge) and of a click's `latency_ms`",
  VIGIL_INPUT_MIN_TIMESTAMP_MS: "earliest event time accepted (epoch ms: 1970-01-01T00:00:00Z)",
  VIGIL_INPUT_MAX_TIMESTAMP_MS:
    "latest event time accepted: `253402300799999` (epoch ms: 9999-12-31T23:59:59.999Z)",
  VIGIL_API_HOST: "the API's address (loopback by default)",
  VIGIL_API_PORT: "the API's port",
  VIGIL_API_MAX_BODY_BYTES: "larger request bodies get 413",
  VIGIL_API_INGEST_EVENTS_PER_S:
    "events `POST /api/v1/events` takes per second on average (a token bucket; 0: no limit); over it, 429 with `Retry-After` and nothing taken in",
  VIGIL_API_INGEST_BURST_EVENTS:
    "events the ingest bucket holds (a burst); at least `VIGIL_API_MAX_EVENTS_PER_REQUEST`",
  VIGIL_API_MAX_EVENTS_PER_REQUEST: "events in one ingest request",
  VIGIL_API_MAX_WATERMARK_HOLDS:
    "watermark holds at once (one per lane an accepted event goes to; [docs/ingest-verdicts.md](ingest-verdicts.md)); full: 503 with `Retry-After`, nothing taken in",
  VIGIL_API_MAX_HOLD_MS:
    "how long a hold keeps an accepted event's lane back at most, when the intake does not take the event",
  VIGIL_API_MAX_ITEM_REASON_CHARS:
    "characters of an item's `reason` in an ingest answer's `items` (longer ones are cut, ending `…`)",
  VIGIL_API_USERS_FILE:
    "a users file of named principals (`main.ts add-user`; scrypt hashes only), read at start",
  VIGIL_API_SESSION_TTL_MS: "how long a console session lasts from sign-in (8 h)",
  VIGIL_API_MAX_SESSIONS: "sessions a process keeps at once (past it, the oldest ends)",
  VIGIL_API_AUTH_CACHE_ENTRIES: "verified users-file tokens remembered, each sparing a scrypt",
  VIGIL_API_MEMORY_STORE_MAX_AUDIT:
    "audit entries the embedded store keeps (the newest); MongoDB keeps all",
  VIGIL_API_MAX_ALERTS_PAGE: "largest `limit`",
  VIGIL_API_MAX_TRIAGE_NOTES: "notes kept on one alert's or incident's triage (the newest)",
  VIGIL_API_MAX_NOTE_CHARS: "longest triage note, in characters",
  VIGIL_API_MAX_ASSIGNEE_CHARS: "longest assignee name, in characters",
  VIGIL_API_HEADER_TIMEOUT_MS:
    "time a request's head (request line and headers) may take, from the connection's opening or the request's first byte; past it, 408 and the connection closes",
  VIGIL_API_BODY_TIMEOUT_MS:
    "time a request's body may take after its head; past it, 408 and the connection closes (the handler's read ends with it)",
  VIGIL_API_IDLE_TIMEOUT_MS: "a kept-alive connection with no request for this long is closed",
  VIGIL_SIMULATOR_EVENTS_PER_SECOND: "simulator rate in `start`",
  VIGIL_SIMULATOR_USERS: "simulated users",
  VIGIL_SIMULATOR_SEED: "simulator seed",
  VIGIL_SIMULATOR_ATTACK_INTERVAL_S: "seconds between injected attacks",
  VIGIL_SIMULATOR_ENABLED: "whether `start` runs the simulator",
  VIGIL_SIMULATOR_FLOWS_PER_SECOND:
    "background network flows per second (and a flow attack every attack interval: about 3 % of flows) when a flow model with class prototypes is loaded; 0: none",
  VIGIL_SIMULATOR_CLICKS_PER_SECOND:
    "operations traffic in `start` (services' metrics and logs, page views and their incidents): page views per second; 0: none",
  VIGIL_SIMULATOR_BACKFILL_S:
    "in `start`, the simulated traffic begins this long before now and is played first as fast as it is read (never more than 50,000 records unread), so baselines exist and every rule has fired within a few minutes; 0: from now",
  VIGIL_SIMULATOR_MAX_RESIDENT_ACTORS:
    "in `start` with the simulator on the embedded log, the resident actors at most unless `VIGIL_RUNTIME_MAX_RESIDENT_ACTORS` is set (the rest passivated, encoded off the heap): it keeps the one process under 400 MB",
  VIGIL_SIMULATOR_PAYMENT_OUTAGE_AFTER_S:
    "in `start`, the payment system fails this long after the live part begins (three in four payments that would succeed come back `failed`), so the `VigilTransactionSuccessRateLow` KPI alert shows; 0: never",
  VIGIL_SIMULATOR_PAYMENT_OUTAGE_EVERY_S: "… and again this often (0: once)",
  VIGIL_SIMULATOR_PAYMENT_OUTAGE_S: "how long each payment outage lasts",
  VIGIL_SIMULATOR_HISTORY_DAYS:
    "in `start` on the embedded store, the simulated traffic from the start of the day (UTC) this many days back to the backfill is counted in the roll-ups (yesterday's and today's trends), neither detected nor kept, on a thread of its own (the default: ~30 million events in ~4 min, the thread's ~120 MB returned when it ends); 0: none, at most 7",
  VIGIL_MODELS_DIR: "where the models and their manifests are (one folder per model)",
  VIGIL_MODELS_MAX_BATCH_ROWS: "rows scored in one `session.run`, at most",
  VIGIL_MODELS_MAX_WAIT_MS: "how long a row waits for others before its batch runs",
  VIGIL_MODELS_MAX_QUEUED_ROWS:
    "rows asked for and not yet scored, per model; past this, scoring is refused",
  VIGIL_MODELS_INTRA_OP_THREADS:
    "onnxruntime threads per session (the other core is left to the event loop)",
  VIGIL_MODELS_DRIFT_SAMPLE_EVERY:
    "drift (`vigil_model_drift_psi`) counts one in this many scored rows: counting every row cost about a third of the batcher's rate in `deno task bench --only onnx`",
  VIGIL_GEO_ENABLED:
    'give a login or failed login with an `ip` and no `lat`/`lon` the country, city, coordinates and AS of the offline IP database (see "IP database"); it loads at the first such event, once per process',
  VIGIL_GEO_CACHE_ENTRIES:
    "addresses whose answer the IP database's lookup keeps (least recently used first out; 0: none), 0..1,000,000",
  VIGIL_CONSOLE_STREAM_MAX_CLIENTS:
    "clients of the console's live stream (`GET /api/v1/stream`) at once; one more gets 503 with `Retry-After`",
  VIGIL_CONSOLE_STREAM_CLIENT_BUFFER_MESSAGES:
    "messages waiting for one slow stream client; past it the oldest are dropped and the client is sent `event: dropped` with the count (the console then reloads)",
  VIGIL_CONSOLE_STREAM_HEARTBEAT_MS:
    "a comment line on a quiet stream this often, so clients and proxies see it alive",
  VIGIL_CONSOLE_VOLUME_BUCKET_S:
    "width of one bar of a rule's alert volume (`GET /api/v1/alert-volume`, the console's chart), in seconds of event time",
  VIGIL_CONSOLE_VOLUME_BUCKETS: "bars of alert volume kept per rule (the newest)",
  VIGIL_CONSOLE_VOLUME_MAX_RULES: "rules whose alert volume is counted, at most",
  VIGIL_MAX_EVENT_BYTES: "larger events (UTF-8) are dead-lettered",
  VIGIL_MEMORY_STORE_MAX_DEAD_LETTERS: "dead letters the in-memory store keeps",
  VIGIL_MEMORY_STORE_MAX_ARCHIVED_EVENTS:
    "raw events the in-memory archive keeps, newest (all are counted in the roll-ups)",
  VIGIL_ALERTS_STDOUT: "also write each alert as a JSON line on stdout (logs go to stderr)",
};
