# Vigil: one process of the detection engine. See README.md, "Containers".
FROM denoland/deno:2.9.6

WORKDIR /app

# Dependencies first, so they are cached unless deno.json or deno.lock change.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY . .
RUN deno cache --frozen main.ts && chown -R deno:deno /app

USER deno

# Inside a container the API must listen beyond loopback; the token comes from the
# environment (ADMIN_TOKEN), never from the image.
ENV HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:8080/health'); Deno.exit(r.ok ? 0 : 1)"]

ENTRYPOINT ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "--allow-sys", "--allow-ffi", "main.ts"]
CMD ["start"]
