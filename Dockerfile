# Vigil: one process of the detection engine. See README.md, "Containers".
FROM denoland/deno:2.9.6

WORKDIR /app

# Dependencies first, so they are cached unless deno.json or deno.lock change.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY . .
# A user of our own with a numeric id, so Kubernetes' runAsNonRoot can verify it.
RUN deno cache --frozen main.ts \
  && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin vigil \
  && chown -R 10001:10001 /app "${DENO_DIR:-/deno-dir}"

USER 10001

# Inside a container the API must listen beyond loopback; the token comes from the
# environment (ADMIN_TOKEN), never from the image.
ENV HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/health'); Deno.exit(r.ok ? 0 : 1)"]

ENTRYPOINT ["deno", "run", "--v8-flags=--max-semi-space-size=64,--min-semi-space-size=64", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-sys", "--allow-ffi", "main.ts"]
CMD ["start"]
