# Plume: the Slack app (or the shell) on a slim Python 3.11, as a non-root user, data in a volume.
# Not built in CI (no Docker engine there); see the README.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PLUME_HOME=/data PORT=3000

RUN useradd --create-home --uid 10001 plume
WORKDIR /app

# Dependencies first (pinned by constraints.txt) so code changes do not reinstall them.
COPY pyproject.toml constraints.txt ./
COPY app.py ./
COPY core ./core
COPY agents ./agents
COPY prompts ./prompts
COPY knowledge ./knowledge
COPY bot ./bot
COPY service ./service
COPY publishing ./publishing
COPY insights ./insights
COPY langgraph.json ./
RUN pip install --constraint constraints.txt . \
    && mkdir -p /data && chown plume:plume /data

USER plume
VOLUME ["/data"]
EXPOSE 3000
CMD ["plume", "serve"]
