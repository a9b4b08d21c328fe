"""Produces lines `topic<TAB>key<TAB>value` from stdin with confluent-kafka-python's
defaults (librdkafka's consistent_random partitioner), as a Python user would, then
flushes; exits non-zero if any delivery failed."""

import sys

from confluent_kafka import Producer

failed = []


def delivered(err, _msg):
    if err is not None:
        failed.append(str(err))


producer = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": True})
for line in sys.stdin:
    topic, key, value = line.rstrip("\n").split("\t", 2)
    while True:
        try:
            producer.produce(topic, key=key, value=value, on_delivery=delivered)
            break
        except BufferError:
            producer.poll(0.1)
    producer.poll(0)
left = producer.flush(120)
if failed or left:
    print(f"{len(failed)} deliveries failed, {left} left: {failed[:3]}", file=sys.stderr)
    sys.exit(1)
