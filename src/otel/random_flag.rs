//! The parent's random trace-id flag (W3C Trace Context Level 2, `trace-flags` bit 1) kept on
//! spans the sampler drops.
//!
//! `opentelemetry_sdk` 0.33 gives a span it does not record `TraceFlags::default()`
//! (`SamplingDecision::Drop` in its `tracer.rs`), while it keeps the parent's flags on the spans it
//! records: a remote parent `…-02` (random, not sampled) gets a child `…-00`, and the flag, which
//! the specification says MUST be propagated unchanged, is lost before any propagator sees it.
//! No sampler can fix that (a `SamplingResult` has no flags), and answering `RecordOnly` instead
//! would record every unsampled span. So the tracer is wrapped: a span the inner tracer does not
//! record, and which lost the random bit of its parent in the same trace, reports a span context
//! with that bit back. Nothing else changes: the span stays unsampled and unrecorded, is never
//! exported, and every call still goes to the inner span. A recording span is left as it is,
//! since what is propagated must be the context of the span that is exported.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{
    Span, SpanBuilder, SpanContext, Status, TraceContextExt, TraceFlags, Tracer,
};
use opentelemetry::{Context, KeyValue};

/// Bit 1 of `trace-flags`: the trace-id is random.
const RANDOM: u8 = 0x02;

/// A tracer whose unrecorded spans keep their parent's random trace-id flag.
#[derive(Debug)]
pub(crate) struct KeepRandomFlag<T>(pub(crate) T);

impl<T: Tracer> Tracer for KeepRandomFlag<T> {
    type Span = KeptFlagSpan<T::Span>;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        let inner = self.0.build_with_context(builder, parent_cx);
        let context = with_parent_random_flag(&inner, parent_cx);
        KeptFlagSpan { inner, context }
    }
}

/// The span context `span` should report, when it differs from its own: the span is not
/// recording, its parent (valid, same trace) has the random flag, and the span lost it.
fn with_parent_random_flag(span: &impl Span, parent_cx: &Context) -> Option<SpanContext> {
    let sc = span.span_context();
    if span.is_recording() || !sc.is_valid() {
        return None;
    }
    let parent = parent_cx.span();
    let psc = parent.span_context();
    let random = psc.trace_flags().to_u8() & RANDOM;
    let flags = sc.trace_flags().to_u8();
    if !psc.is_valid() || psc.trace_id() != sc.trace_id() || random == 0 || flags & RANDOM != 0 {
        return None;
    }
    Some(SpanContext::new(
        sc.trace_id(),
        sc.span_id(),
        TraceFlags::new(flags | random),
        sc.is_remote(),
        sc.trace_state().clone(),
    ))
}

/// The inner tracer's span, with the span context it reports when the random flag was put back.
#[derive(Debug)]
pub(crate) struct KeptFlagSpan<S> {
    inner: S,
    context: Option<SpanContext>,
}

impl<S: Span> Span for KeptFlagSpan<S> {
    fn add_event_with_timestamp<N>(
        &mut self,
        name: N,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        N: Into<Cow<'static, str>>,
    {
        self.inner
            .add_event_with_timestamp(name, timestamp, attributes);
    }

    fn span_context(&self) -> &SpanContext {
        self.context
            .as_ref()
            .unwrap_or_else(|| self.inner.span_context())
    }

    fn is_recording(&self) -> bool {
        self.inner.is_recording()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        self.inner.set_attribute(attribute);
    }

    fn set_status(&mut self, status: Status) {
        self.inner.set_status(status);
    }

    fn update_name<N>(&mut self, new_name: N)
    where
        N: Into<Cow<'static, str>>,
    {
        self.inner.update_name(new_name);
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        self.inner.add_link(span_context, attributes);
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.inner.end_with_timestamp(timestamp);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId, TraceState, TracerProvider as _};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

    use super::*;

    fn parent(flags: u8) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0x1234_u128),
            SpanId::from(0x5678_u64),
            TraceFlags::new(flags),
            true,
            TraceState::NONE,
        ))
    }

    fn child_flags(sampler: Sampler, parent_flags: u8) -> (u8, bool) {
        let provider = SdkTracerProvider::builder().with_sampler(sampler).build();
        let tracer = KeepRandomFlag(provider.tracer("t"));
        let span = tracer.build_with_context(SpanBuilder::from_name("s"), &parent(parent_flags));
        (
            span.span_context().trace_flags().to_u8(),
            span.is_recording(),
        )
    }

    #[test]
    fn a_dropped_child_keeps_the_random_flag_and_stays_unsampled() {
        let parent_based = || Sampler::ParentBased(Box::new(Sampler::AlwaysOn));
        assert_eq!(child_flags(parent_based(), 0x02), (0x02, false));
        assert_eq!(child_flags(parent_based(), 0x00), (0x00, false));
        assert_eq!(child_flags(parent_based(), 0x03), (0x03, true));
        assert_eq!(child_flags(parent_based(), 0x01), (0x01, true));
        // A sampler that drops a sampled parent's child: unsampled, random kept.
        assert_eq!(child_flags(Sampler::AlwaysOff, 0x03), (0x02, false));
    }

    #[test]
    fn a_root_span_is_left_as_the_sdk_made_it() {
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOff)
            .build();
        let tracer = KeepRandomFlag(provider.tracer("t"));
        let span = tracer.build_with_context(SpanBuilder::from_name("s"), &Context::new());
        assert!(span.context.is_none());
        assert_eq!(span.span_context().trace_flags(), TraceFlags::default());
    }
}
