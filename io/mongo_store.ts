/**
 * The store port on MongoDB (npm:mongodb): `alerts` unique on `alert_id` (saving twice
 * is harmless), `dead_letters`, and the indexes created at start. No transactions are
 * used, so any MongoDB wire-protocol server with unique indexes will do.
 *
 * @module
 */

import { type Collection, type Db, MongoClient } from "mongodb";
import type { Alert, DeadLetter } from "../events/types.ts";
import {
  type AlertQuery,
  type ArchivedEvent,
  type PendingNotification,
  type Store,
  type StoredCheckpoint,
  StoreQueryError,
} from "./store.ts";

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
}

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
  #chunkChars: number;
  #raised = 0;

  private constructor(client: MongoClient, db: Db, chunkChars: number) {
    this.#chunkChars = chunkChars;
    this.#checkpoints = db.collection<CheckpointDoc>("checkpoints");
    this.#chunks = db.collection<ChunkDoc>("checkpoint_chunks");
    this.#client = client;
    this.#db = db;
    this.#alerts = db.collection<AlertDoc>("alerts");
    this.#dead = db.collection<DeadLetterDoc>("dead_letters");
    this.#archive = db.collection<ArchiveDoc>("raw_events");
    this.#notifications = db.collection<NotificationDoc>("notifications");
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
    await store.#chunks.createIndex({ checkpoint: 1, epoch: 1 }, { name: "checkpoint_epoch" });
    await store.#alerts.createIndex({ alert_id: 1 }, { unique: true, name: "alert_id_unique" });
    await store.#notifications.createIndex(
      { target: 1, lease_until: 1, queued_at: 1 },
      { name: "target_lease" },
    );
    await store.#alerts.createIndex({ ts_ms: -1 }, { name: "ts" });
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

  async findArchived(limit: number): Promise<ArchivedEvent[]> {
    const docs = await this.#archive.find({}).sort({ archived_at: -1, ts: -1 }).limit(limit)
      .toArray();
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
