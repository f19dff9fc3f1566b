//! The Kubernetes tab of a Group, System or Domain: each of its components' health (with words,
//! not colour alone, and the reason in a tooltip and for screen readers), pods ready of total,
//! restarts and the worst detected problem, each linking to the component's own tab. Read from
//! the server's watch cache, streamed with the page, then refreshed on the configured interval.

use std::time::Duration;

use leptos::prelude::*;

use crate::backend::get_fleet_health;
use crate::components::entity_link::EntityLinkView;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::components::health_chip::HealthChip;
use crate::wire::kubernetes::{FleetHealth, HealthState};
use crate::wire::EntityDetail;

/// The fleet tab of `entity`.
#[component]
pub fn FleetTab(entity: EntityDetail) -> impl IntoView {
    let (ns, kind, name) = (
        entity.namespace.clone(),
        entity.kind.clone(),
        entity.name.clone(),
    );
    let what = entity.kind.to_lowercase();
    // Loaded with the page on the server (see the tab's module doc), hydrated, then polled.
    let data = crate::page_data::page_data(
        move || (ns.clone(), kind.clone(), name.clone()),
        |(ns, kind, name)| get_fleet_health(ns, kind, name),
    );
    let current: RwSignal<Option<Result<FleetHealth, String>>> = RwSignal::new(None);
    let interval = RwSignal::new(10_000u64);
    Effect::new(move |_| {
        if let Some(r) = data.get() {
            if let Ok(v) = &r {
                if v.refresh_interval_ms > 0 && v.refresh_interval_ms != interval.get_untracked() {
                    interval.set(v.refresh_interval_ms);
                }
            }
            current.set(Some(r.map_err(|e| plain_error(&e))));
        }
    });
    // Polls start once the first load is hydrated (see the tab's `settled`).
    let settled = RwSignal::new(false);
    Effect::new(move |_| {
        let ms = interval.get();
        if !settled.get() {
            return;
        }
        if let Ok(handle) =
            set_interval_with_handle(move || data.refetch(), Duration::from_millis(ms))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let shown = move || {
        settled
            .get()
            .then(|| current.get())
            .flatten()
            .or_else(|| data.get().map(|r| r.map_err(|e| plain_error(&e))))
    };
    view! {
        <h2>"Kubernetes"</h2>
        <p class="muted">{format!("The health of this {what}'s components in every cluster, refreshed every few seconds.")}</p>
        <Transition fallback=super::loading>
            {move || {
                let r = shown();
                if r.is_some() {
                    super::settle_after_hydration(settled);
                }
                match r {
                    None => super::loading().into_any(),
                    Some(Err(e)) => view! { <ErrorPanel title="The components' health could not be loaded" message=e/> }.into_any(),
                    Some(Ok(f)) => view! { <FleetTable fleet=f what=what.clone()/> }.into_any(),
                }
            }}
        </Transition>
    }
}

#[component]
fn FleetTable(fleet: FleetHealth, what: String) -> impl IntoView {
    if fleet.components.is_empty() {
        return view! {
            <p class="muted">{format!("No component of this {what} has the backstage.io/kubernetes-id or backstage.io/kubernetes-label-selector annotation.")}</p>
        }
        .into_any();
    }
    let count = |s: HealthState| fleet.components.iter().filter(|c| c.state == s).count();
    let summary = format!(
        "{} components: {} failing, {} degraded, {} healthy, {} unknown",
        fleet.components.len(),
        count(HealthState::Failing),
        count(HealthState::Degraded),
        count(HealthState::Healthy),
        count(HealthState::Unknown),
    );
    view! {
        <p class="fleet-summary" role="status">{summary}</p>
        <div class="table-scroll">
            <table class="entities fleet">
                <caption class="visually-hidden">"Components and their health"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Component"</th>
                        <th scope="col">"Health"</th>
                        <th scope="col">"Pods ready"</th>
                        <th scope="col">"Restarts"</th>
                        <th scope="col">"Worst problem"</th>
                        <th scope="col"><span class="visually-hidden">"Kubernetes tab"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {fleet.components.into_iter().map(|c| {
                        view! {
                            <tr data-component=c.link.entity_ref.clone()>
                                <td><EntityLinkView link=c.link.clone()/></td>
                                <td><HealthChip state=c.state reason=c.reason.clone()/></td>
                                <td class="number">{format!("{}/{}", c.pods_ready, c.pods_total)}</td>
                                <td class="number">{c.restarts}</td>
                                <td>{c.worst_error.unwrap_or_default()}</td>
                                <td><a href=c.tab_href>"Kubernetes tab"<span class="visually-hidden">{format!(" of {}", c.link.label)}</span></a></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
