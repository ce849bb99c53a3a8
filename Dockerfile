# changebot: one image for the GitHub Action and for `changebot serve`.

# --- build: wheels for changebot and its pinned dependencies ---------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY src ./src
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.lock \
 && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# --- runtime: no compilers, a non-root user --------------------------------
FROM python:3.11-slim
# git is what GitPython drives; nothing else is added to the slim base.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git=1:2.* \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels
# NOTE: uid 1001 is the `runner` user of GitHub's hosted runners, so that the
# Action can write the workspace and the files behind GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY without running as root.
RUN useradd --uid 1001 --create-home --shell /usr/sbin/nologin changebot \
 && mkdir -p /data && chown changebot /data
USER 1001
ENV CHANGEBOT_DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["changebot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
