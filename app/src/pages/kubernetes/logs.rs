//! The pod panel's Logs section, first in the panel: a container's tail (100 to 5,000 lines),
//! its previous container's (offered only for a container that restarted), follow, download,
//! and reading aids: lines wrapped or not, timestamps short (time of day, UTC), full or hidden,
//! and a search that keeps only the matching lines, highlighted.
//!
//! A followed log is pushed by the server (one upstream stream per container however many
//! viewers); where the stream is unavailable the section re-reads the tail every 1.5 s. While
//! following, the log sticks to its newest line; scrolling up pauses that and offers "Jump to
//! newest" with the count of lines that arrived meanwhile.

use std::time::Duration;

use leptos::prelude::*;

use super::TabContext;
use crate::backend::get_pod_logs;
use crate::components::error_panel::{plain_error, ErrorPanel};
use crate::wire::kubernetes::{LogRequest, PodDetail, PodRef};

/// How often a followed log is re-read when it cannot be streamed.
const FOLLOW_EVERY: Duration = Duration::from_millis(1500);
/// Lines of a followed log the panel keeps.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const FOLLOW_KEEP: usize = 5000;

/// Where a followed log stands (set by the browser only).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Follow {
    /// Waiting for the first lines.
    Connecting,
    /// Lines arrive as the container writes them.
    Streaming,
    /// The server ended it (the pod is gone…): why.
    Ended(String),
    /// No stream (refused, or the cache is off): the section re-reads the log instead.
    Unavailable,
}

/// How timestamps are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamps {
    /// `17:25:52` (UTC; `Full` and the download keep the whole stamp).
    Short,
    /// As the kubelet wrote it (RFC 3339, nanoseconds).
    Full,
    Hidden,
}

/// A log line's timestamp as shown.
fn stamp(ts: &str, how: Stamps) -> &str {
    match how {
        Stamps::Full => ts,
        Stamps::Hidden => "",
        // "2026-12-07T17:25:52.123456789Z" → "17:25:52".
        Stamps::Short => ts
            .split_once('T')
            .and_then(|(_, time)| time.get(..8))
            .filter(|t| t.as_bytes().get(2) == Some(&b':'))
            .unwrap_or(ts),
    }
}

/// `text` split around the case-insensitive matches of `query` (lower-cased already): pieces
/// with `true` are matches. ASCII case folding keeps byte offsets valid.
fn pieces<'a>(text: &'a str, query: &str) -> Vec<(&'a str, bool)> {
    if query.is_empty() {
        return vec![(text, false)];
    }
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(query) {
        let start = at + i;
        let end = start + query.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        if start > at {
            out.push((&text[at..start], false));
        }
        out.push((&text[start..end], true));
        at = end;
    }
    if at < text.len() {
        out.push((&text[at..], false));
    }
    out
}

/// The lines to show: all, or those matching the search (borrowed: a followed log holds up to
/// 5,000 lines and is re-rendered on every batch).
fn matching<'a>(lines: &'a [(String, String)], query: &str) -> Vec<&'a (String, String)> {
    lines
        .iter()
        .filter(|(_, text)| query.is_empty() || text.to_ascii_lowercase().contains(query))
        .collect()
}

/// The query string of the log routes (`/logs`, `/logs/follow`) for a container of `pod`.
fn log_query(
    entity_ref: &str,
    pod: &PodRef,
    container: Option<String>,
    previous: bool,
    tail: u32,
) -> String {
    use super::query_escape as q;
    format!(
        "entity={}&cluster={}&namespace={}&pod={}{}{}&tail={tail}",
        q(entity_ref),
        q(&pod.cluster),
        q(&pod.namespace),
        q(&pod.name),
        container
            .map(|c| format!("&container={}", q(&c)))
            .unwrap_or_default(),
        if previous { "&previous=true" } else { "" },
    )
}

/// One log line: its timestamp as chosen, and its text with the search's matches marked.
fn line_view(ts: &str, text: &str, how: Stamps, query: &str) -> impl IntoView {
    let shown = stamp(ts, how).to_string();
    view! {
        <span class="log-line">
            {(!shown.is_empty()).then(|| view! { <span class="ts">{shown}</span>" " })}
            {pieces(text, query).into_iter().map(|(piece, hit)| {
                let piece = piece.to_string();
                if hit { view! { <mark>{piece}</mark> }.into_any() } else { piece.into_any() }
            }).collect_view()}
            "\n"
        </span>
    }
}

/// The Logs section of `pod`'s panel.
#[component]
pub fn LogsSection(
    pod: PodRef,
    detail: LocalResource<Result<PodDetail, ServerFnError>>,
    denied: Memo<bool>,
) -> impl IntoView {
    let ctx = expect_context::<TabContext>();
    let container = RwSignal::new(None::<String>);
    let previous = RwSignal::new(false);
    let tail = RwSignal::new(200u32);
    let follow = RwSignal::new(false);
    let wrap = RwSignal::new(true);
    let stamps = RwSignal::new(Stamps::Short);
    let query = RwSignal::new(String::new());
    let needle = Memo::new(move |_| query.get().trim().to_ascii_lowercase());
    // The containers, and whether each has a previous (restarted) instance.
    let containers = Memo::new(move |_| {
        detail
            .get()
            .and_then(Result::ok)
            .map(|d| {
                d.containers
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            c.restarts > 0 || c.last_termination.is_some(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    let has_previous = Memo::new(move |_| {
        let chosen = container.get();
        containers.with(|cs| {
            cs.iter()
                .find(|(name, _)| chosen.as_ref().is_none_or(|c| c == name))
                .is_some_and(|(_, restarted)| *restarted)
        })
    });
    Effect::new(move |_| {
        if !has_previous.get() && previous.get_untracked() {
            previous.set(false);
        }
    });
    let (er, p) = (ctx.entity_ref.clone(), pod.clone());
    let logs = LocalResource::new(move || {
        let request = LogRequest {
            pod: p.clone(),
            container: container.get(),
            previous: previous.get(),
            tail_lines: tail.get(),
        };
        get_pod_logs(er.clone(), request)
    });
    // Following the current container's log: pushed while the stream works, re-read while not.
    let followed = RwSignal::new(Vec::<(String, String)>::new());
    let follow_state = RwSignal::new(Follow::Unavailable);
    let streaming = Memo::new(move |_| {
        follow.get() && !previous.get() && follow_state.get() != Follow::Unavailable
    });
    #[cfg(feature = "hydrate")]
    {
        let (er, p) = (ctx.entity_ref.clone(), pod.clone());
        Effect::new(move |_| {
            if follow.get() && !previous.get() {
                let url = format!(
                    "/api/greenroom/kubernetes/logs/follow?{}",
                    log_query(&er, &p, container.get(), false, tail.get())
                );
                followed.set(Vec::new());
                super::live::follow_log(&url, followed, FOLLOW_KEEP, follow_state);
            }
        });
    }
    Effect::new(move |_| {
        if follow.get() && !streaming.get() {
            if let Ok(handle) = set_interval_with_handle(move || logs.refetch(), FOLLOW_EVERY) {
                on_cleanup(move || handle.clear());
            }
        }
    });
    // Sticking to the newest line: true until the reader scrolls up, again at the bottom.
    let stick = RwSignal::new(true);
    // Lines that arrived while the reader was scrolled up.
    let unseen = RwSignal::new(0usize);
    let shown_pre = NodeRef::<leptos::html::Pre>::new();
    let followed_pre = NodeRef::<leptos::html::Pre>::new();
    let to_bottom = move || {
        for pre in [followed_pre.get_untracked(), shown_pre.get_untracked()]
            .into_iter()
            .flatten()
        {
            pre.set_scroll_top(pre.scroll_height());
        }
    };
    let on_scroll = move |ev: leptos::ev::Event| {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        {
            let at_bottom = el.scroll_top() + el.client_height() >= el.scroll_height() - 8;
            stick.set(at_bottom);
            if at_bottom {
                unseen.set(0);
            }
        }
    };
    // New lines: keep the newest in view, or count them for "Jump to newest".
    Effect::new(move |previous_len: Option<usize>| {
        let len =
            followed.with(Vec::len) + logs.get().and_then(Result::ok).map_or(0, |l| l.lines.len());
        if stick.get_untracked() {
            set_timeout(to_bottom, Duration::from_millis(0));
        } else if let Some(before) = previous_len {
            unseen.update(|n| *n += len.saturating_sub(before));
        }
        len
    });
    let jump = move |_| {
        stick.set(true);
        unseen.set(0);
        to_bottom();
    };
    let download = {
        let (er, p) = (ctx.entity_ref.clone(), pod.clone());
        move || {
            format!(
                "/api/greenroom/kubernetes/logs?{}",
                log_query(&er, &p, container.get(), previous.get(), tail.get())
            )
        }
    };
    let pre_class = move || if wrap.get() { "logs wrap" } else { "logs" };
    let match_count = move |total: usize, shown: usize| {
        (!needle.get().is_empty()).then(|| {
            view! { <p class="log-matches muted" role="status">{format!("{shown} of {total} lines match")}</p> }
        })
    };
    view! {
        <section class="logs-section" aria-labelledby="logs-title" hidden=move || denied.get()>
            <h4 id="logs-title">"Logs"</h4>
            <div class="log-controls">
                {move || (containers.with(Vec::len) > 1).then(|| view! {
                    <label>"Container "
                        <select on:change=move |ev| container.set(Some(event_target_value(&ev)))>
                            {containers.get().into_iter().map(|(n, _)| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                })}
                <label>"Lines "
                    <select on:change=move |ev| tail.set(event_target_value(&ev).parse().unwrap_or(200))>
                        <option value="100">"100"</option>
                        <option value="200" selected>"200"</option>
                        <option value="1000">"1000"</option>
                        <option value="5000">"5000"</option>
                    </select>
                </label>
                {move || has_previous.get().then(|| view! {
                    <label title="The log of the container instance before its last restart"><input type="checkbox" prop:checked=move || previous.get() on:change=move |ev| previous.set(event_target_checked(&ev))/> " Previous container"</label>
                })}
                <label><input type="checkbox" on:change=move |ev| follow.set(event_target_checked(&ev))/> " Follow"</label>
                <label><input type="checkbox" checked prop:checked=move || wrap.get() on:change=move |ev| wrap.set(event_target_checked(&ev))/> " Wrap lines"</label>
                <label>"Timestamps "
                    <select on:change=move |ev| stamps.set(match event_target_value(&ev).as_str() {
                        "full" => Stamps::Full,
                        "hidden" => Stamps::Hidden,
                        _ => Stamps::Short,
                    })>
                        <option value="short" selected>"Time (UTC)"</option>
                        <option value="full">"Full"</option>
                        <option value="hidden">"Hidden"</option>
                    </select>
                </label>
                <input type="search" class="log-search" placeholder="Search in the log" aria-label="Search in the log"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
                <a href=download download="">"Download"</a>
            </div>
            {move || follow.get().then(|| view! {
                <div class="log-follow" role="status" data-follow=move || match (streaming.get(), follow_state.get()) {
                    (false, _) => "polling",
                    (true, Follow::Connecting) => "connecting",
                    (true, Follow::Streaming) => "streaming",
                    (true, Follow::Ended(_)) => "ended",
                    (true, Follow::Unavailable) => "unavailable",
                }>
                    {move || match (streaming.get(), follow_state.get()) {
                        (_, Follow::Ended(why)) if streaming.get() => view! { <span>{why}</span> }.into_any(),
                        (true, Follow::Connecting) => view! { <span>"Connecting to the log…"</span> }.into_any(),
                        _ if !stick.get() => view! {
                            <span class="paused">"Paused while you scroll: "{move || match unseen.get() {
                                1 => "1 new line below".to_string(),
                                n => format!("{n} new lines below"),
                            }}</span>
                        }.into_any(),
                        (true, _) => view! { <span class="following"><span class="dot" aria-hidden="true">"● "</span>"Following: new lines appear as the container writes them"</span> }.into_any(),
                        (false, _) => view! { <span class="following"><span class="dot" aria-hidden="true">"● "</span>"Following: the log is re-read every 1.5 s"</span> }.into_any(),
                    }}
                    <button type="button" class="secondary jump" hidden=move || stick.get() on:click=jump>"Jump to newest"</button>
                </div>
            })}
            {move || streaming.get().then(|| {
                let (how, q) = (stamps.get(), needle.get());
                followed.with(|all| {
                    let lines = matching(all, &q);
                    view! {
                        {match_count(all.len(), lines.len())}
                        <pre class=pre_class tabindex="0" aria-label="Log lines" data-followed="true" node_ref=followed_pre on:scroll=on_scroll>
                            {lines.iter().map(|(ts, text)| line_view(ts, text, how, &q)).collect_view()}
                        </pre>
                    }
                })
            })}
            <div hidden=move || streaming.get()>
            <Transition fallback=|| view! { <p class="loading">"Loading logs…"</p> }>
                {move || {
                    let (how, q) = (stamps.get(), needle.get());
                    Suspend::new(async move {
                    match logs.await {
                        Ok(l) if l.lines.is_empty() => view! { <p class="muted">"No log lines."</p> }.into_any(),
                        Ok(l) => {
                            let total = l.lines.len();
                            let lines = matching(&l.lines, &q);
                            view! {
                                {l.truncated.map(|max| view! {
                                    <p class="log-truncated" role="status">{format!(
                                        "Truncated: the portal reads at most {} KiB of a log at once, so the newest lines are cut off. Ask for fewer lines to see them.",
                                        max / 1024
                                    )}</p>
                                })}
                                {match_count(total, lines.len())}
                                // Named only while it is the log shown (not behind a followed one).
                                <pre class=pre_class tabindex="0" aria-label=move || (!streaming.get()).then_some("Log lines") node_ref=shown_pre on:scroll=on_scroll>
                                    {lines.iter().map(|(ts, text)| line_view(ts, text, how, &q)).collect_view()}
                                </pre>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorPanel title="The log could not be read" message=plain_error(&e)/> }.into_any(),
                    }
                    })
                }}
            </Transition>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_timestamps_are_the_time_of_day() {
        let ts = "2026-12-07T17:25:52.123456789Z";
        assert_eq!(stamp(ts, Stamps::Short), "17:25:52");
        assert_eq!(stamp(ts, Stamps::Full), ts);
        assert_eq!(stamp(ts, Stamps::Hidden), "");
        assert_eq!(stamp("not a time", Stamps::Short), "not a time");
    }

    #[test]
    fn search_splits_matches_without_case() {
        assert_eq!(
            pieces("Error: DB error", "error"),
            vec![("Error", true), (": DB ", false), ("error", true)]
        );
        assert_eq!(
            pieces("ünïcode ok", "ok"),
            vec![("ünïcode ", false), ("ok", true)]
        );
        assert_eq!(pieces("abc", ""), vec![("abc", false)]);
        let lines = vec![
            ("t".to_string(), "GET /a".to_string()),
            ("t".to_string(), "POST /b".to_string()),
        ];
        assert_eq!(matching(&lines, "post").len(), 1);
        assert_eq!(matching(&lines, "").len(), 2);
    }
}
