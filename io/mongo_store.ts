/**
 * The store port on MongoDB (npm:mongodb): `alerts` unique on `alert_id` (saving twice
 * is harmless), `dead_letters`, and the indexes created at start. No transactions are
 * used, so any MongoDB wire-protocol server with unique indexes will do.
 *
 * @module
 */

import type { AuditEntry, AuditQuery } from "../engine/audit.ts";
import { type Collection, type Db, type Filter, MongoClient } from "mongodb";
import { type Alert, type DeadLetter, type Incident, SEVERITY_RANK } from "../events/types.ts";
import { defaults } from "../config/defaults.ts";
import { byIncident, foldIncident, sameIncident } from "../engine/incidents.ts";
import type { Triage, TriageKind } from "../engine/triage.ts";
import type { Suppression } from "../engine/suppressions.ts";
import {
  type AlertQuery,
  type ArchivedEvent,
  type ArchiveFilter,
  EVENT_FILTERS,
  type EventFilter,
  type EventQuery,
  type IncidentQuery,
  type JobRun,
  type PendingNotification,
  type Store,
  type StoredCheckpoint,
  StoreQueryError,
  type TriagedCase,
} from "./store.ts";
import { MongoRollups } from "./mongo_rollups.ts";
import type { RollupQuery, RollupRow } from "./rollups.ts";
import { triagedCase } from "./memory_store.ts";

/** How to reach MongoDB. */
export interface MongoOptions {
  uri: string;
  database: string;
  /** Server selection and socket timeouts (ms). */
  timeout_ms: number;
  /** Dead letters older than this are removed (a TTL index, where the server honours it). */
  dead_letter_retention_s: number;
  /** Archived raw events older than this are removed (TTL index). */
  archive_retention_s?: number;
  /** Characters of checkpoint text per document (MongoDB documents are at most 16 MB). */
  checkpoint_chunk_chars?: number;
  /** Alert ids and entities kept on one incident. */
  max_incident_members?: number;
}

/** Tries of an incident's optimistic write before the flush fails (and is retried whole). */
const INCIDENT_WRITE_TRIES = 8;

/** 4 M characters: at most 12 MB of UTF-8, under MongoDB's 16 MB document limit. */
const CHECKPOINT_CHUNK_CHARS = 4_000_000;

type AlertDoc = Alert & { ts_ms: number; raised: number };
type DeadLetterDoc = DeadLetter & { at_date: Date };
/** The head of a partition checkpoint: which chunks make it up. */
type CheckpointDoc = {
  _id: string;
  epoch: string;
  chunks: number;
  offsets: { topic: string; offset: number }[];
  partitions: number;
  created_at: Date;
};
/** A piece of a checkpoint's image text. Never changed once written. */
type ChunkDoc = { _id: string; checkpoint: string; epoch: string; index: number; text: string };
type ArchiveDoc = {
  _id: string;
  kind: string;
  ts: number;
  raw: Record<string, unknown>;
  archived_at: Date;
};

/** A notification waiting to be sent, leased by the process sending it. */
type NotificationDoc = {
  _id: string;
  target: string;
  alert: Alert;
  lease_until: number;
  queued_at: Date;
};

/** An incident as stored: with the fields its queries sort and filter on. */
type IncidentDoc = Omit<Incident, "incident_id"> & {
  _id: string;
  severity_rank: number;
  first_ms: number;
  last_ms: number;
};

function incidentOfDoc(d: IncidentDoc): Incident {
  const { _id, severity_rank: _r, first_ms: _f, last_ms: _l, ...rest } = d;
  return { incident_id: _id, ...rest };
}

function docOfIncident(i: Incident): IncidentDoc {
  const { incident_id, ...rest } = i;
  return {
    _id: incident_id,
    ...rest,
    severity_rank: SEVERITY_RANK[i.severity],
    first_ms: Date.parse(i.first_seen),
    last_ms: Date.parse(i.last_seen),
  };
}

/** A case's triage as stored: `_id` is `kind:id`. */
type TriageDoc = Triage & { _id: string; kind: TriageKind; case_id: string };

/** Inserts a document; false when one with its `_id` is there already (another came first). */
function insertFirst<T extends { _id: string }>(c: Collection<T>, doc: T): Promise<boolean> {
  // deno-lint-ignore no-explicit-any
  return c.insertOne(doc as any).then(() => true, (err) => {
    if ((err as { code?: number }).code === 11000) return false;
    throw err;
  });
}

type SuppressionDoc = Suppression & { _id: string };
type AuditDoc = AuditEntry & { _id: string; at_ms: number };

/** A MongoDB-backed store. */
export class MongoStore implements Store {
  #client: MongoClient;
  #db: Db;
  #alerts: Collection<AlertDoc>;
  #dead: Collection<DeadLetterDoc>;
  #archive: Collection<ArchiveDoc>;
  #checkpoints: Collection<CheckpointDoc>;
  #chunks: Collection<ChunkDoc>;
  #notifications: Collection<NotificationDoc>;
  #incidents: Collection<IncidentDoc>;
  #triage: Collection<TriageDoc>;
  #suppressions: Collection<SuppressionDoc>;
  #audit: Collection<AuditDoc>;
  #maxIncidentMembers = defaults.alerts.max_incident_members;
  #chunkChars: number;
  #raised = 0;
  /** The hourly and daily roll-ups of the archive and the alerts. */
  readonly rollups: MongoRollups;
  #leases: Collection<{ _id: string; owner: string; until: number }>;
  #runs: Collection<JobRun & { at: Date }>;

  private constructor(client: MongoClient, db: Db, chunkChars: number) {
    this.rollups = new MongoRollups(db);
    this.#leases = db.collection("leases");
    this.#runs = db.collection("job_runs");
    this.#chunkChars = chunkChars;
    this.#checkpoints = db.collection<CheckpointDoc>("checkpoints");
    this.#chunks = db.collection<ChunkDoc>("checkpoint_chunks");
    this.#client = client;
    this.#db = db;
    this.#alerts = db.collection<AlertDoc>("alerts");
    this.#dead = db.collection<DeadLetterDoc>("dead_letters");
    this.#archive = db.collection<ArchiveDoc>("raw_events");
    this.#notifications = db.collection<NotificationDoc>("notifications");
    this.#incidents = db.collection<IncidentDoc>("incidents");
    this.#triage = db.collection<TriageDoc>("triage");
    this.#suppressions = db.collection<SuppressionDoc>("suppressions");
    this.#audit = db.collection<AuditDoc>("audit");
  }

  /** Connects and creates the indexes. */
  static async connect(o: MongoOptions): Promise<MongoStore> {
    const client = new MongoClient(o.uri, {
      serverSelectionTimeoutMS: o.timeout_ms,
      connectTimeoutMS: o.timeout_ms,
      socketTimeoutMS: o.timeout_ms * 6,
      retryWrites: false,
    });
    await client.connect();
    const store = new MongoStore(
      client,
      client.db(o.database),
      o.checkpoint_chunk_chars ?? CHECKPOINT_CHUNK_CHARS,
    );
    if (o.max_incident_members !== undefined) store.#maxIncidentMembers = o.max_incident_members;
    await store.#chunks.createIndex({ checkpoint: 1, epoch: 1 }, { name: "checkpoint_epoch" });
    await store.#alerts.createIndex({ "incident.id": 1, ts_ms: -1 }, { name: "incident_ts" });
    await store.#incidents.createIndex({ first_ms: -1, _id: -1 }, { name: "first_seen" });
    await store.#incidents.createIndex({ rules: 1, first_ms: -1 }, { name: "rules_first_seen" });
    await store.#incidents.createIndex({ "entities.key": 1 }, { name: "entities" });
    await store.#audit.createIndex({ "target.id": 1, _id: -1 }, { name: "target" });
    await store.#alerts.createIndex({ alert_id: 1 }, { unique: true, name: "alert_id_unique" });
    await store.#notifications.createIndex(
      { target: 1, lease_until: 1, queued_at: 1 },
      { name: "target_lease" },
    );
    await store.#alerts.createIndex({ ts_ms: -1 }, { name: "ts" });
    await store.#triage.createIndex({ updated_at: -1 }, { name: "updated_at" });
    await store.#alerts.createIndex({ rule: 1, ts_ms: -1 }, { name: "rule_ts" });
    await store.#alerts.createIndex({ "entity.key": 1, ts_ms: -1 }, { name: "entity_ts" });
    await store.#dead.createIndex(
      { at_date: 1 },
      { expireAfterSeconds: o.dead_letter_retention_s, name: "retention" },
    );
    await store.#archive.createIndex(
      { archived_at: 1 },
      { expireAfterSeconds: o.archive_retention_s ?? 7 * 24 * 3600, name: "retention" },
    );
    await store.#runs.createIndex({ job: 1, started_at: -1 }, { name: "job_started" });
    await store.#runs.createIndex({ at: 1 }, {
      expireAfterSeconds: 90 * 86_400,
      name: "retention",
    });
    // The event queries: by time alone, by kind, and by each entity field.
    await store.#archive.createIndex({ ts: -1, _id: -1 }, { name: "ts" });
    await store.#archive.createIndex({ kind: 1, ts: -1 }, { name: "kind_ts" });
    const fields = new Set(Object.values(EVENT_FILTERS).flat());
    for (const f of fields) {
      await store.#archive.createIndex({ [`raw.${f}`]: 1, ts: -1 }, { name: `${f}_ts` });
    }
    return store;
  }

  async archiveEvents(events: readonly ArchivedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const archived_at = new Date();
    await this.#archive.bulkWrite(
      events.map((e) => ({
        updateOne: {
          filter: { _id: e.event_id },
          update: { $setOnInsert: { kind: e.kind, ts: e.ts, raw: e.raw, archived_at } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async findArchived(limit: number, filter?: ArchiveFilter): Promise<ArchivedEvent[]> {
    const query: Filter<ArchiveDoc> = {};
    if (filter?.event_ids) query._id = { $in: [...filter.event_ids] };
    if (filter?.fields) query.$or = filter.fields.map((f) => ({ [`raw.${f}`]: filter.value }));
    const docs = await this.#archive.find(query).sort({ archived_at: -1, ts: -1 }).limit(limit)
      .toArray();
    return docs.map((d) => ({ event_id: d._id, kind: d.kind, ts: d.ts, raw: d.raw }));
  }

  rollup(from_ms: number, to_ms: number): Promise<number> {
    return this.rollups.rollup(from_ms, to_ms);
  }

  findRollups(q: RollupQuery, limit: number): Promise<RollupRow[]> {
    return this.rollups.find(q, limit);
  }

  async takeLease(name: string, owner: string, now_ms: number, lease_ms: number): Promise<boolean> {
    try {
      // Matches when free, run out or its own; otherwise the upsert's insert of the same
      // _id is refused: another process holds it.
      await this.#leases.updateOne(
        { _id: name, $or: [{ until: { $lt: now_ms } }, { owner }] },
        { $set: { owner, until: now_ms + lease_ms } },
        { upsert: true },
      );
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 11000) return false;
      throw err;
    }
  }

  async saveJobRun(run: JobRun): Promise<void> {
    await this.#runs.insertOne({ ...run, at: new Date(run.started_at) });
  }

  async findJobRuns(job: string, limit: number): Promise<JobRun[]> {
    const docs = await this.#runs.find({ job }).sort({ started_at: -1 }).limit(limit).toArray();
    return docs.map(({ _id: _, at: __, ...run }) => run as JobRun);
  }

  async findEvents(q: EventQuery): Promise<ArchivedEvent[]> {
    const and: Filter<ArchiveDoc>[] = [];
    if (q.kind !== undefined) and.push({ kind: q.kind });
    if (q.from_ms !== undefined) and.push({ ts: { $gte: q.from_ms } });
    if (q.to_ms !== undefined) and.push({ ts: { $lt: q.to_ms } });
    for (const [name, value] of Object.entries(q.match ?? {})) {
      const fields = EVENT_FILTERS[name as EventFilter];
      and.push(
        fields.length === 1
          ? { [`raw.${fields[0]}`]: value }
          : { $or: fields.map((f) => ({ [`raw.${f}`]: value })) },
      );
    }
    if (q.after) {
      and.push({
        $or: [{ ts: { $lt: q.after.ts } }, { ts: q.after.ts, _id: { $lt: q.after.event_id } }],
      });
    }
    const docs = await this.#archive.find(and.length > 0 ? { $and: and } : {})
      .sort({ ts: -1, _id: -1 }).limit(q.limit).toArray();
    return docs.map((d) => ({ event_id: d._id, kind: d.kind, ts: d.ts, raw: d.raw }));
  }

  /**
   * Writes the new image's chunks under a fresh epoch, then points the head at them (one
   * document replaced: the atomic step), then removes the chunks of other epochs. A writer
   * that dies half-way leaves the old checkpoint whole, and stray chunks the next save removes.
   */
  async saveCheckpoint(cp: StoredCheckpoint): Promise<void> {
    const epoch = `${Date.now().toString(36)}-${crypto.randomUUID()}`;
    const chunks: ChunkDoc[] = [];
    for (let i = 0, at = 0; at < cp.image.length || i === 0; i++, at += this.#chunkChars) {
      chunks.push({
        _id: `${cp.id}/${epoch}/${i}`,
        checkpoint: cp.id,
        epoch,
        index: i,
        text: cp.image.slice(at, at + this.#chunkChars),
      });
    }
    for (const chunk of chunks) await this.#chunks.insertOne(chunk);
    await this.#checkpoints.replaceOne({ _id: cp.id }, {
      epoch,
      chunks: chunks.length,
      offsets: Object.entries(cp.offsets).map(([topic, offset]) => ({ topic, offset })),
      partitions: cp.partitions,
      created_at: new Date(cp.created_at),
    }, { upsert: true });
    await this.#chunks.deleteMany({ checkpoint: cp.id, epoch: { $ne: epoch } });
  }

  async loadCheckpoint(id: string): Promise<StoredCheckpoint | null> {
    const head = await this.#checkpoints.findOne({ _id: id });
    if (!head) return null;
    const chunks = await this.#chunks.find({ checkpoint: id, epoch: head.epoch })
      .sort({ index: 1 }).toArray();
    if (chunks.length !== head.chunks) {
      throw new Error(
        `Checkpoint ${id} is incomplete: ${chunks.length} of ${head.chunks} chunks found`,
      );
    }
    return {
      id,
      offsets: Object.fromEntries(head.offsets.map((o) => [o.topic, o.offset])),
      partitions: head.partitions,
      image: chunks.map((c) => c.text).join(""),
      created_at: head.created_at.toISOString(),
    };
  }

  async saveAlerts(alerts: readonly Alert[]): Promise<Alert[]> {
    if (alerts.length === 0) return [];
    const base = Date.now() * 1000;
    await this.#alerts.bulkWrite(
      alerts.map((a) => ({
        updateOne: {
          filter: { alert_id: a.alert_id },
          update: {
            $setOnInsert: { ...a, ts_ms: Date.parse(a.timestamp), raised: base + this.#raised++ },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
    // As stored: an alert raised again keeps the content it was first stored with.
    const ids = alerts.map((a) => a.alert_id);
    const docs = await this.#alerts.find({ alert_id: { $in: ids } }, {
      projection: { _id: 0, ts_ms: 0, raised: 0 },
    }).toArray();
    const byId = new Map(docs.map((d) => [d.alert_id, d as unknown as Alert]));
    return alerts.map((a) => byId.get(a.alert_id) ?? a);
  }

  async findAlerts(q: AlertQuery): Promise<Alert[]> {
    const filter: Record<string, unknown> = {};
    if (q.rule !== undefined) filter.rule = q.rule;
    if (q.entity_type !== undefined) filter["entity.type"] = q.entity_type;
    if (q.entity_key !== undefined) filter["entity.key"] = q.entity_key;
    if (q.since_ms !== undefined) filter.ts_ms = { $gte: q.since_ms };
    if (q.incident_id !== undefined) filter["incident.id"] = q.incident_id;
    if (q.before !== undefined) {
      const cursor = await this.#alerts.findOne({ alert_id: q.before }, {
        projection: { _id: 0, raised: 1 },
      });
      if (!cursor) throw new StoreQueryError(`No alert ${q.before} is stored (paging cursor)`);
      filter.raised = { $lt: cursor.raised };
    }
    const docs = await this.#alerts.find(filter, { projection: { _id: 0, ts_ms: 0, raised: 0 } })
      .sort({ raised: -1 }).limit(q.limit).toArray();
    return docs as unknown as Alert[];
  }

  /**
   * Each incident is read, folded and written back only if no other process changed it
   * meanwhile (its `version`; a new one is inserted, unique on its id), else read again.
   */
  async saveIncidents(alerts: readonly Alert[]): Promise<Incident[]> {
    const changed: Incident[] = [];
    const limits = { max_incident_members: this.#maxIncidentMembers };
    for (const [id, list] of byIncident(alerts)) {
      for (let attempt = 1;; attempt++) {
        const doc = await this.#incidents.findOne({ _id: id });
        const before = doc ? incidentOfDoc(doc) : null;
        const after = foldIncident(before, list, limits)!;
        if (before !== null && sameIncident(before, after)) break;
        let written: boolean;
        if (before === null) {
          written = await insertFirst(this.#incidents, docOfIncident(after));
        } else {
          const r = await this.#incidents.replaceOne(
            { _id: id, version: before.version },
            docOfIncident(after),
          );
          written = r.matchedCount === 1;
        }
        if (written) {
          changed.push(after);
          break;
        }
        if (attempt >= INCIDENT_WRITE_TRIES) {
          throw new Error(
            `Cannot write incident ${id}: changed by others ${attempt} times in a row`,
          );
        }
      }
    }
    return changed;
  }

  async findIncidents(q: IncidentQuery): Promise<Incident[]> {
    const and: Record<string, unknown>[] = [];
    if (q.min_severity !== undefined) {
      and.push({ severity_rank: { $gte: SEVERITY_RANK[q.min_severity] } });
    }
    if (q.rule !== undefined) and.push({ rules: q.rule });
    if (q.since_ms !== undefined) and.push({ last_ms: { $gte: q.since_ms } });
    if (q.entity_type !== undefined || q.entity_key !== undefined) {
      const e = { type: q.entity_type, key: q.entity_key };
      and.push({ $or: [{ anchor: e }, { entities: { $elemMatch: e } }] });
    }
    if (q.before !== undefined) {
      const c = await this.#incidents.findOne({ _id: q.before }, {
        projection: { first_ms: 1 },
      });
      if (!c) throw new StoreQueryError(`No incident ${q.before} is stored (paging cursor)`);
      and.push({
        $or: [{ first_ms: { $lt: c.first_ms } }, { first_ms: c.first_ms, _id: { $lt: c._id } }],
      });
    }
    const docs = await this.#incidents.find(and.length > 0 ? { $and: and } : {})
      .sort({ first_ms: -1, _id: -1 }).limit(q.limit).toArray();
    return docs.map(incidentOfDoc);
  }

  async getIncident(id: string): Promise<Incident | null> {
    const doc = await this.#incidents.findOne({ _id: id });
    return doc ? incidentOfDoc(doc) : null;
  }

  async getAlert(id: string): Promise<Alert | null> {
    const doc = await this.#alerts.findOne({ alert_id: id }, {
      projection: { _id: 0, ts_ms: 0, raised: 0 },
    });
    return doc as unknown as Alert | null;
  }

  async getTriages(kind: TriageKind, ids: readonly string[]): Promise<Map<string, Triage>> {
    if (ids.length === 0) return new Map();
    const docs = await this.#triage.find({ _id: { $in: ids.map((id) => `${kind}:${id}`) } })
      .toArray();
    return new Map(docs.map((d) => {
      const { _id, kind: _k, case_id, ...triage } = d;
      return [case_id, triage as Triage];
    }));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    // Inserted, never replaced: an entry written twice (a retried request) stays the first.
    await insertFirst(this.#audit, { ...entry, _id: entry.id, at_ms: Date.parse(entry.at) });
  }

  async findAudit(q: AuditQuery): Promise<AuditEntry[]> {
    const filter: Record<string, unknown> = {};
    if (q.before !== undefined) filter._id = { $lt: q.before };
    if (q.since_ms !== undefined) filter.at_ms = { $gte: q.since_ms };
    if (q.principal !== undefined) filter.principal = q.principal;
    if (q.action !== undefined) filter.action = q.action;
    if (q.target_id !== undefined) filter["target.id"] = q.target_id;
    const docs = await this.#audit.find(filter, { projection: { _id: 0, at_ms: 0 } })
      .sort({ _id: -1 }).limit(q.limit).toArray();
    return docs as unknown as AuditEntry[];
  }

  async saveSuppression(s: Suppression): Promise<void> {
    await this.#suppressions.replaceOne({ _id: s.id }, s, { upsert: true });
  }

  async findSuppressions(limit: number): Promise<Suppression[]> {
    const docs = await this.#suppressions.find({}, { projection: { _id: 0 } })
      .sort({ created_at: -1 }).limit(limit).toArray();
    return docs as unknown as Suppression[];
  }

  async findTriaged(since: string, limit: number): Promise<TriagedCase[]> {
    const docs = await this.#triage.find({ updated_at: { $gte: since } }, {
      projection: { notes: 0 },
    }).sort({ updated_at: -1 }).limit(limit).toArray();
    return docs.map((d) => triagedCase(d.kind, d.case_id, { ...d, notes: [] }));
  }

  /** One aggregation over the alerts of the window (the `ts` index), grouped by rule. */
  async countAlertsByRule(since_ms: number): Promise<Map<string, number>> {
    const groups = await this.#alerts.aggregate<{ _id: string; n: number }>([
      { $match: { ts_ms: { $gte: since_ms }, mode: { $ne: "suppressed" } } },
      { $group: { _id: "$rule", n: { $sum: 1 } } },
    ]).toArray();
    return new Map(groups.map((g) => [g._id, g.n]));
  }

  /** Inserted at the first change (unique `_id`), then replaced only at its revision. */
  async saveTriage(kind: TriageKind, id: string, after: Triage): Promise<boolean> {
    const doc: TriageDoc = { _id: `${kind}:${id}`, kind, case_id: id, ...after };
    if (after.revision === 1) return await insertFirst(this.#triage, doc);
    const r = await this.#triage.replaceOne({ _id: doc._id, revision: after.revision - 1 }, doc);
    return r.matchedCount === 1;
  }

  /** Every alert id stored (for tests and drills). */
  async alertIds(): Promise<string[]> {
    const docs = await this.#alerts.find({}, { projection: { _id: 0, alert_id: 1 } }).toArray();
    return docs.map((d) => d.alert_id);
  }

  async saveDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.#dead.insertMany(letters.map((d) => ({ ...d, at_date: new Date(d.at) })), {
      ordered: false,
    });
  }

  async findDeadLetters(limit: number): Promise<DeadLetter[]> {
    const docs = await this.#dead.find({}, { projection: { _id: 0, at_date: 0 } }).sort({ _id: -1 })
      .limit(limit).toArray();
    return docs as unknown as DeadLetter[];
  }

  async takeDeadLetters(limit: number, category?: string): Promise<DeadLetter[]> {
    const docs = await this.#dead.find(category === undefined ? {} : { category }, {
      projection: { at_date: 0 },
    }).sort({ _id: -1 }).limit(limit).toArray();
    if (docs.length === 0) return [];
    // Not atomic across processes: two re-drives at the same moment may both take a letter
    // (its event is then ingested twice; alerts are idempotent on their ids).
    const ids = docs.map((d) => d._id);
    await this.#dead.deleteMany({ _id: { $in: ids } });
    return docs.map(({ _id, ...d }) => d as unknown as DeadLetter);
  }

  async queueNotifications(items: readonly PendingNotification[]): Promise<void> {
    if (items.length === 0) return;
    const queued_at = new Date();
    await this.#notifications.bulkWrite(
      items.map((n) => ({
        updateOne: {
          filter: { _id: n.id },
          update: { $setOnInsert: { target: n.target, alert: n.alert, lease_until: 0, queued_at } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Leases one document at a time (a conditional update), so two processes never share one. */
  async claimNotifications(
    target: string,
    now_ms: number,
    lease_ms: number,
    limit: number,
  ): Promise<PendingNotification[]> {
    const candidates = await this.#notifications
      .find({ target, lease_until: { $lte: now_ms } })
      .sort({ queued_at: 1 })
      .limit(limit)
      .toArray();
    const out: PendingNotification[] = [];
    for (const d of candidates) {
      const r = await this.#notifications.updateOne(
        { _id: d._id, lease_until: d.lease_until },
        { $set: { lease_until: now_ms + lease_ms } },
      );
      if (r.modifiedCount === 1) out.push({ id: d._id, target: d.target, alert: d.alert });
    }
    return out;
  }

  async doneNotifications(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#notifications.deleteMany({ _id: { $in: [...ids] } });
  }

  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
