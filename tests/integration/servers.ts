/**
 * The addresses of the real servers `deno task test` started for the integration tests.
 *
 * @module
 */

function need(name: string): string {
  const v = Deno.env.get(name);
  if (!v) {
    throw new Error(
      `${name} is not set: run the integration tests through "deno task test", which starts the servers`,
    );
  }
  return v;
}

/** Kafka's bootstrap address. */
export const kafkaBrokers = (): string => need("VIGIL_TEST_KAFKA_BROKERS");
/** The MongoDB wire-protocol server's URI. */
export const mongoUri = (): string => need("VIGIL_TEST_MONGODB_URI");

/** kcat (librdkafka's client), from Debian: a producer not written here. */
export const kcatBin = (): string => need("VIGIL_TEST_KCAT");

/** The Python of a virtual environment with confluent-kafka-python, from PyPI. */
export const confluentPython = (): string => need("VIGIL_TEST_CONFLUENT_PYTHON");

/** A name no other test run uses (groups, databases, keys). */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
