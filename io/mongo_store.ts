/**
 * The store port on MongoDB (npm:mongodb): `alerts` unique on `alert_id` (saving twice
 * is harmless), `dead_letters`, and the indexes created at start. No transactions are
 * used, so any MongoDB wire-protocol server with unique indexes will do.
 *
 * @module
 */

import { type Collection, type Db, MongoClient } from "mongodb";
import type { Alert, DeadLetter } from "../events/types.ts";
import type { AlertQuery, Store } from "./store.ts";

/** How to reach MongoDB. */
export interface MongoOptions {
  uri: string;
  database: string;
  /** Server selection and socket timeouts (ms). */
  timeout_ms: number;
  /** Dead letters older than this are removed (a TTL index, where the server honours it). */
  dead_letter_retention_s: number;
}

type AlertDoc = Alert & { ts_ms: number; raised: number };
type DeadLetterDoc = DeadLetter & { at_date: Date };

/** A MongoDB-backed store. */
export class MongoStore implements Store {
  #client: MongoClient;
  #db: Db;
  #alerts: Collection<AlertDoc>;
  #dead: Collection<DeadLetterDoc>;
  #raised = 0;

  private constructor(client: MongoClient, db: Db) {
    this.#client = client;
    this.#db = db;
    this.#alerts = db.collection<AlertDoc>("alerts");
    this.#dead = db.collection<DeadLetterDoc>("dead_letters");
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
    const store = new MongoStore(client, client.db(o.database));
    await store.#alerts.createIndex({ alert_id: 1 }, { unique: true, name: "alert_id_unique" });
    await store.#alerts.createIndex({ ts_ms: -1 }, { name: "ts" });
    await store.#alerts.createIndex({ rule: 1, ts_ms: -1 }, { name: "rule_ts" });
    await store.#alerts.createIndex({ "entity.key": 1, ts_ms: -1 }, { name: "entity_ts" });
    await store.#dead.createIndex(
      { at_date: 1 },
      { expireAfterSeconds: o.dead_letter_retention_s, name: "retention" },
    );
    return store;
  }

  async saveAlerts(alerts: readonly Alert[]): Promise<void> {
    if (alerts.length === 0) return;
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
  }

  async findAlerts(q: AlertQuery): Promise<Alert[]> {
    const filter: Record<string, unknown> = {};
    if (q.rule !== undefined) filter.rule = q.rule;
    if (q.entity_type !== undefined) filter["entity.type"] = q.entity_type;
    if (q.entity_key !== undefined) filter["entity.key"] = q.entity_key;
    if (q.since_ms !== undefined) filter.ts_ms = { $gte: q.since_ms };
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

  async ping(): Promise<void> {
    await this.#db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
