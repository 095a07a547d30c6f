//! A HorizontalPodAutoscaler (autoscaling/v2) for a fleet planned under a load: it scales the
//! Deployment, or the LeaderWorkerSet through the scale subresource its CRD declares
//! (sigs.k8s.io/lws api/leaderworkerset/v1: `+kubebuilder:subresource:scale` with
//! `specpath=.spec.replicas`, `selectorpath=.status.hpaPodSelector`, which selects the leaders),
//! on the engine's queue gauge read through a custom-metrics adapter (prometheus-adapter).

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::decide::fleet::DEFAULT_PEAK_FACTOR;

/// The autoscaler's bounds and the queue it holds each replica to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Autoscale {
    /// What the plan deploys: the replicas the load needs and the spares.
    pub min: u32,
    /// Room for the load to grow by the peak factor at the planned load per replica.
    pub max: u32,
    /// Mean requests waiting per replica at which it scales out.
    pub queue_target: u32,
}

/// The rule: min = the planned `serving` replicas + `spares`; max = ⌈`serving` × 2⌉ + `spares`,
/// the fleet for twice the planned rate (`--daily`'s default peak factor) at the same load per
/// replica, which the plan showed meets the SLO; and the queue target = ⌊λ × TTFT limit⌋ (at least
/// 1), where λ is one replica's planned rate: by Little's law a queue that long keeps its requests
/// waiting the whole TTFT limit on average, so the fleet grows before waiting alone spends it.
/// Without a TTFT limit, one waiting request.
pub fn rule(
    serving: u32,
    spares: u32,
    rate_per_replica_per_s: f64,
    ttft_limit_ms: Option<f64>,
) -> Autoscale {
    let serving = serving.max(1);
    let max = (f64::from(serving) * DEFAULT_PEAK_FACTOR).ceil() as u32 + spares;
    let queue = ttft_limit_ms.map_or(1.0, |ms| (rate_per_replica_per_s * ms / 1000.0).floor());
    Autoscale {
        min: serving + spares,
        max,
        queue_target: queue.max(1.0) as u32,
    }
}

/// The name prometheus-adapter serves `metric` under: Prometheus allows `:` in names, the
/// adapter's rule (README, "Autoscaling") renames it to `_`.
pub fn adapter_name(metric: &str) -> String {
    metric.replace(':', "_")
}

/// The autoscaler of the object `kind` (api `api_version`) named `name`.
pub fn hpa(
    name: &str,
    api_version: &str,
    kind: &str,
    metric: &str,
    a: Autoscale,
) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(api_version.to_string()),
                kind: kind.to_string(),
                name: name.to_string(),
            },
            min_replicas: Some(a.min as i32),
            max_replicas: a.max as i32,
            metrics: Some(vec![MetricSpec {
                type_: "Pods".into(),
                pods: Some(PodsMetricSource {
                    metric: MetricIdentifier {
                        name: adapter_name(metric),
                        selector: None,
                    },
                    target: MetricTarget {
                        type_: "AverageValue".into(),
                        average_value: Some(Quantity(a.queue_target.to_string())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_the_planned_fleet_and_twice_its_serving_replicas_plus_spares() {
        // 3 serving + 1 spare at 20/s over 3 replicas with a 1 s TTFT limit: 6.67 requests/s
        // each, so a mean queue of 6 waits 0.9 s.
        assert_eq!(
            rule(3, 1, 20.0 / 3.0, Some(1000.0)),
            Autoscale {
                min: 4,
                max: 7,
                queue_target: 6
            }
        );
        // A slow stream never asks for less than one waiting request.
        assert_eq!(rule(1, 0, 0.2, Some(2000.0)).queue_target, 1);
        assert_eq!(rule(1, 0, 50.0, None).queue_target, 1);
        assert_eq!(
            (rule(1, 0, 1.0, None).min, rule(1, 0, 1.0, None).max),
            (1, 2)
        );
    }

    #[test]
    fn the_adapter_name_has_no_colon() {
        assert_eq!(
            adapter_name("vllm:num_requests_waiting"),
            "vllm_num_requests_waiting"
        );
    }
}
