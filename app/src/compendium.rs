//! Compendium search for signed-in users. (The browser page is the client
//! issue's; this is its server function.)

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::compendium::{CompendiumEntry, CompendiumQuery, detail::Detail};

use crate::AppError;

/// Searches the compendium with text and filters.
#[server(endpoint = "compendium/search", input = Json)]
pub async fn search_compendium(query: CompendiumQuery) -> Result<Vec<CompendiumEntry>, AppError> {
    crate::backend::as_user(|backend, _user| async move { backend.search_compendium(query).await })
        .await
}

/// One entry read for people: its facts, text and a monster's actions.
#[server(endpoint = "compendium/detail", input = Json)]
pub async fn compendium_detail(ref_key: String) -> Result<Detail, AppError> {
    crate::backend::as_user(
        |backend, _user| async move { backend.compendium_detail(ref_key).await },
    )
    .await
}

/// The kinds of compendium entry, as filters.
const TYPES: [(&str, &str); 7] = [
    ("", "Anything"),
    ("spell", "Spells"),
    ("actor", "Monsters"),
    ("item", "Items"),
    ("condition", "Conditions"),
    ("class_feature", "Class features"),
    ("feat", "Feats"),
];

const SCHOOLS: [&str; 8] = [
    "abjuration",
    "conjuration",
    "divination",
    "enchantment",
    "evocation",
    "illusion",
    "necromancy",
    "transmutation",
];

/// `/compendium`: full-text search over the SRD with filters, and "add to
/// campaign" for monsters and items. The entries found are kept in the
/// browser for a week (see `crate::storage`) and searched there when the
/// network is gone.
#[component]
pub fn CompendiumPage() -> impl IntoView {
    let text = RwSignal::new(String::new());
    // What the search runs on: the text a moment after the last key, so
    // typing "fireball" is one search, not eight.
    let settled = RwSignal::new(String::new());
    crate::debounce::when_still(
        move || text.get(),
        std::time::Duration::from_millis(200),
        move |now| settled.set(now),
    );
    let item_type = RwSignal::new(String::new());
    let school = RwSignal::new(String::new());
    let min_level = RwSignal::new(String::new());
    let max_level = RwSignal::new(String::new());
    let min_cr = RwSignal::new(String::new());
    let max_cr = RwSignal::new(String::new());
    // Results asked for: 50 more each time the list is exhausted, up to
    // the server's limit.
    let limit = RwSignal::new(CompendiumQuery::DEFAULT_LIMIT);
    let query = Memo::new(move |_| {
        let some = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        CompendiumQuery {
            text: some(settled.get()),
            item_type: some(item_type.get()),
            school: some(school.get()),
            min_level: min_level.get().trim().parse().ok(),
            max_level: max_level.get().trim().parse().ok(),
            min_cr: min_cr.get().trim().parse().ok(),
            max_cr: max_cr.get().trim().parse().ok(),
            limit: Some(limit.get()),
        }
    });
    // Local: the search goes through the browser's IndexedDB.
    let results = LocalResource::new(move || crate::storage::search_compendium_cached(query.get()));
    let cache = crate::storage::QueryCache::get();
    let campaigns = cache.resource(
        crate::campaign::CAMPAIGNS_KEY.into(),
        crate::storage::Staleness::Campaign,
        || 0,
        crate::campaign::list_campaigns,
    );
    let target = RwSignal::new(String::new());
    let added = RwSignal::new(None::<Result<String, String>>);
    let add = Action::new(move |entry: &CompendiumEntry| {
        let entry = entry.clone();
        async move {
            let Ok(campaign) = target.get_untracked().parse::<uuid::Uuid>() else {
                return Err("choose a campaign first".to_owned());
            };
            let campaign = shared::id::CampaignId(campaign);
            let kind = if entry.item_type == "actor" {
                "actors"
            } else {
                "items"
            };
            cache.invalidate(&crate::storage::QueryCache::key(campaign, kind));
            let outcome = if entry.item_type == "actor" {
                crate::content::create_actor(
                    campaign,
                    crate::content::NewActorRequest {
                        compendium_ref: Some(entry.ref_key.clone()),
                        name: None,
                        kind: shared::actor::ActorKind::Monster,
                        level: None,
                        character_class: None,
                        owner: None,
                        character: None,
                    },
                )
                .await
                .map(drop)
            } else {
                crate::content::create_item(
                    campaign,
                    crate::content::NewItemRequest {
                        compendium_ref: entry.ref_key.clone(),
                        owner: None,
                        container: None,
                        quantity: 1,
                    },
                )
                .await
                .map(drop)
            };
            outcome
                .map(|()| format!("{} added to the campaign", entry.name))
                .map_err(|e| e.to_string())
        }
    });
    Effect::new(move |_| {
        if let Some(done) = add.value().get() {
            added.set(Some(done));
        }
    });
    view! {
        <leptos_meta::Title text="Compendium" />
        <h1>"Compendium"</h1>
        <form class="card compendium-search" role="search" on:submit=|e| e.prevent_default()>
            <div class="field">
                <label for="compendium-text">"Search"</label>
                <input id="compendium-text" type="search" placeholder="Fireball, goblin, cure…" bind:value=text autocomplete="off" />
            </div>
            <div class="filters">
                <label>"Type "
                    <select bind:value=item_type data-test="filter-type">
                        {TYPES.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label>"School "
                    <select bind:value=school>
                        <option value="">"Any"</option>
                        {SCHOOLS.into_iter().map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Level " <input type="number" min="0" max="9" size="2" bind:value=min_level aria-label="Lowest level" /></label>
                <label>"to " <input type="number" min="0" max="9" size="2" bind:value=max_level aria-label="Highest level" /></label>
                <label>"CR " <input type="number" min="0" step="0.125" size="3" bind:value=min_cr aria-label="Lowest challenge rating" /></label>
                <label>"to " <input type="number" min="0" step="0.125" size="3" bind:value=max_cr aria-label="Highest challenge rating" /></label>
            </div>
        </form>
        <div class="add-target">
            <label for="add-campaign">"Add to "</label>
            <select id="add-campaign" bind:value=target>
                <option value="">"Choose a campaign"</option>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        campaigns.await.unwrap_or_default().into_iter().map(|c| view! {
                            <option value=c.id.to_string()>{c.name.to_string()}</option>
                        }).collect_view()
                    })}
                </Suspense>
            </select>
            {move || added.get().map(|done| match done {
                Ok(text) => view! { <span class="muted" role="status">{text}</span> }.into_any(),
                Err(text) => view! { <span class="error" role="alert">{text}</span> }.into_any(),
            })}
        </div>
        <Transition fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(found) if found.entries.is_empty() => view! { <p class="muted">"Nothing matches."</p> }.into_any(),
                    Ok(found) => {
                        let shown = u32::try_from(found.entries.len()).unwrap_or(u32::MAX);
                        view! {
                        {found.kept.then(|| view! {
                            <p class="muted" role="status" data-test="compendium-kept">
                                "Offline: entries this browser kept from earlier searches (up to a week), matched by name."
                            </p>
                        })}
                        <ul class="compendium-results" data-test="compendium-results">
                            {found.entries.into_iter().map(|entry| {
                                let addable = matches!(entry.item_type.as_str(), "actor" | "item");
                                let details = [
                                    entry.level.map(|l| if l == 0 { "cantrip".to_owned() } else { format!("level {l}") }),
                                    entry.school.clone(),
                                    entry.challenge_rating.map(|cr| format!("CR {cr}")),
                                    entry.rarity.clone().map(|r| r.replace('_', " ")),
                                    entry.category.clone().filter(|c| *c != entry.item_type).map(|c| c.replace('_', " ")),
                                ]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" · ");
                                let kind = entry.item_type.replace('_', " ");
                                let for_add = entry.clone();
                                let shown = RwSignal::new(None::<Result<Detail, AppError>>);
                                let ref_key = entry.ref_key.clone();
                                let toggle = move |_| {
                                    if shown.get_untracked().is_some() {
                                        shown.set(None);
                                        return;
                                    }
                                    let ref_key = ref_key.clone();
                                    leptos::task::spawn_local(async move {
                                        shown.set(Some(compendium_detail(ref_key).await));
                                    });
                                };
                                let name = entry.name.clone();
                                view! {
                                    <li class="card compendium-entry" data-test="compendium-entry">
                                        <strong>{entry.name.clone()}</strong>
                                        <span class="muted">{format!(" {kind}{}", if details.is_empty() { String::new() } else { format!(" · {details}") })}</span>
                                        <button type="button" class="small" data-test="entry-details"
                                            aria-expanded=move || shown.with(Option::is_some).to_string()
                                            aria-label=format!("Details of {name}")
                                            on:click=toggle>
                                            {move || if shown.with(Option::is_some) { "Hide" } else { "Details" }}
                                        </button>
                                        {addable.then(|| view! {
                                            <button type="button" class="small" on:click=move |_| { add.dispatch(for_add.clone()); }>
                                                "Add to campaign"
                                            </button>
                                        })}
                                        {move || shown.get().map(|read| match read {
                                            Ok(detail) => detail_view(detail),
                                            Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {(shown == limit.get_untracked() && shown < CompendiumQuery::MAX_LIMIT).then(|| view! {
                            <button type="button" data-test="more-results" on:click=move |_| {
                                limit.update(|n| *n = (*n + 50).min(CompendiumQuery::MAX_LIMIT));
                            }>"Show more"</button>
                        })}
                    }.into_any()
                    }
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// An entry as a rulebook prints it: the line saying what it is, its facts,
/// its text, a monster's traits and actions.
pub fn detail_view(detail: Detail) -> AnyView {
    let facts = detail
        .facts
        .into_iter()
        .map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> })
        .collect_view();
    let text = detail
        .text
        .into_iter()
        .map(|p| view! { <p>{p}</p> })
        .collect_view();
    let sections = detail
        .sections
        .into_iter()
        .map(|section| {
            let entries = section
                .entries
                .into_iter()
                .map(|(name, text)| view! { <p><strong>{format!("{name}. ")}</strong>{text}</p> })
                .collect_view();
            view! { <h4>{section.title}</h4>{entries} }
        })
        .collect_view();
    view! {
        <div class="entry-detail" data-test="entry-detail">
            <p class="muted"><em>{detail.summary}</em></p>
            <dl class="facts">{facts}</dl>
            {text}
            {sections}
        </div>
    }
    .into_any()
}
