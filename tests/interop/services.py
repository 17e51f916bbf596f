"""The Python side of tests/http/interop_python.rs: one FastAPI service in either of two roles.

    python services.py start PORT   GET /start calls $DOWNSTREAM with httpx and returns its text
    python services.py end PORT     GET /end returns "end"

Instrumented as the OpenTelemetry Python guides show; spans go over OTLP/HTTP (protobuf) to
$COLLECTOR (for example http://127.0.0.1:4318). On SIGTERM uvicorn runs the lifespan's shutdown,
which flushes the spans.
"""

import os
import sys
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

role, port = sys.argv[1], int(sys.argv[2])

provider = TracerProvider(resource=Resource.create({"service.name": f"python-{role}"}))
provider.add_span_processor(
    BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{os.environ['COLLECTOR']}/v1/traces"))
)
trace.set_tracer_provider(provider)
HTTPXClientInstrumentor().instrument()


@asynccontextmanager
async def lifespan(app):
    yield
    provider.shutdown()  # exports what the batch still holds


app = FastAPI(lifespan=lifespan)

if role == "start":

    @app.get("/start", response_class=PlainTextResponse)
    async def start():
        async with httpx.AsyncClient() as client:
            response = await client.get(os.environ["DOWNSTREAM"])
        return response.text

elif role == "end":

    @app.get("/end", response_class=PlainTextResponse)
    async def end():
        return "end"

else:
    sys.exit(f"unknown role {role!r}: start or end")

# Without exclude_spans, each request also yields internal "http send"/"http receive" spans.
FastAPIInstrumentor.instrument_app(app, exclude_spans=["send", "receive"])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port)
