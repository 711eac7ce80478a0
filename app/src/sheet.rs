//! `/campaigns/:id/actors/:actor`: an actor's sheet: hit points, armor,
//! speed, ability scores, conditions, the rest of its statblock (read by
//! `shared::actor::Statblock`, as the live session reads it), and its
//! inventory (containers and what they hold), with items handed to
//! another actor or put away in the stash. Its player and the GM change it
//! between sessions ([`edit`]).

mod edit;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::{
    actor::{ActorRecord, Statblock, modifier},
    id::{ActorId, CampaignId, ItemId, UserId},
    item::ItemRecord,
};

use crate::{
    AppError,
    content::{ActorSheet, list_actors, load_actor_sheet, move_item, set_actor_owner},
    storage::{QueryCache, Staleness},
};

/// The sheet page.
#[component]
pub fn ActorSheetPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let ids = move || {
        let read = params.read();
        let campaign = read.get("id")?.parse::<uuid::Uuid>().ok()?;
        let actor = read.get("actor")?.parse::<uuid::Uuid>().ok()?;
        Some((CampaignId(campaign), ActorId(actor)))
    };
    let moved = RwSignal::new(0u32);
    // The last save's outcome outlives the sheet drawn again after it.
    let saved = RwSignal::new(None::<Result<String, AppError>>);
    let sheet = Resource::new(
        move || (ids(), moved.get()),
        |(ids, _)| async move {
            let (campaign, actor) = ids.ok_or(AppError::Forbidden)?;
            load_actor_sheet(campaign, actor).await
        },
    );
    view! {
        // A transition, not a suspense: a sheet read again after a change
        // stays on screen until the new one is there.
        <Transition fallback=|| view! { <p class="muted">"Loading the sheet…"</p> }>
            {move || Suspend::new(async move {
                match sheet.await {
                    Ok(sheet) => view! { <Sheet sheet moved saved /> }.into_any(),
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A loaded sheet.
#[component]
fn Sheet(
    sheet: ActorSheet,
    moved: RwSignal<u32>,
    saved: RwSignal<Option<Result<String, AppError>>>,
) -> impl IntoView {
    let ActorSheet {
        actor,
        items,
        may_edit,
    } = sheet;
    let stats = Statblock::read(&actor.base_stats, &actor.current_stats);
    let editable = stats.clone();
    let campaign = actor.campaign;
    let subtitle = [
        Some(actor.kind.slug().to_owned()),
        actor.level.map(|l| format!("level {l}")),
        actor.character_class.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    view! {
        <Title text=actor.name.clone() />
        <p><A href=format!("/campaigns/{campaign}")>"← Campaign"</A></p>
        <h1>{actor.name.clone()}</h1>
        <p class="muted">{subtitle}</p>
        <OwnerPicker campaign actor=actor.id owner=actor.owner />
        <section class="card sheet" aria-label="Statistics" data-test="sheet">
            {match stats.hp.map(|hp| (hp.current, hp.max)) {
                Some((now, max)) => view! {
                    <p class="hp" data-test="sheet-hp"><strong>"Hit points "</strong>{format!("{now} / {max}")}</p>
                    <meter min="0" max=max value=now.max(0) low=max / 3 optimum=max aria-label="Hit points"></meter>
                }.into_any(),
                None => view! { <p class="muted">"No hit points on this sheet."</p> }.into_any(),
            }}
            <dl class="stats">
                {stats.armor_class.map(|ac| view! { <dt>"Armor class"</dt><dd>{ac}</dd> })}
                {stats.speed.map(|ft| view! { <dt>"Speed"</dt><dd>{format!("{ft} ft")}</dd> })}
                {stats.facts.into_iter().map(|(label, text)| view! { <dt>{label}</dt><dd>{text}</dd> }).collect_view()}
            </dl>
            {(!stats.abilities.is_empty()).then(|| view! {
                <table class="abilities">
                    <caption class="visually-hidden">"Ability scores"</caption>
                    <thead><tr>
                        {stats.abilities.iter().map(|(name, ..)| view! { <th scope="col">{name[..3].to_uppercase()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody><tr>
                        {stats.abilities.iter().map(|(name, score)| {
                            let bonus = modifier(*score);
                            view! {
                                <td aria-label=format!("{name} {score}, modifier {bonus:+}")>
                                    {*score}<br /><span class="muted">{format!("{bonus:+}")}</span>
                                </td>
                            }
                        }).collect_view()}
                    </tr></tbody>
                </table>
            })}
            {(!stats.proficiencies.is_empty()).then(|| {
                let names: Vec<String> = stats.proficiencies.iter().map(|c| c.label()).collect();
                view! { <p data-test="sheet-proficiencies"><strong>"Proficient: "</strong>{names.join(", ")}</p> }
            })}
            <h2>"Conditions"</h2>
            {if stats.conditions.is_empty() {
                view! { <p class="muted" data-test="sheet-conditions">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="chips" data-test="sheet-conditions">
                        {stats.conditions.into_iter().map(|c| view! { <li class="chip">{c}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        {may_edit.then(|| view! { <edit::SheetEditor campaign actor=actor.id stats=editable moved saved /> })}
        <Inventory campaign owner=actor.id items moved />
    }
    .into_any()
}

/// What an actor carries, containers with their contents under them; each
/// item it holds itself can be handed to another actor or put in the stash.
#[component]
fn Inventory(
    campaign: CampaignId,
    owner: ActorId,
    items: Vec<ItemRecord>,
    moved: RwSignal<u32>,
) -> impl IntoView {
    let actors = QueryCache::get().resource(
        QueryCache::key(campaign, "actors"),
        Staleness::Campaign,
        || 0,
        move || list_actors(campaign),
    );
    let given = Callback::new(move |()| moved.update(|n| *n += 1));
    let rows = nested(&items);
    let empty = rows.is_empty();
    view! {
        <section class="card inventory" aria-labelledby="inventory-heading">
            <h2 id="inventory-heading">"Inventory"</h2>
            {if empty {
                view! { <p class="muted">"Carries nothing."</p> }.into_any()
            } else {
                view! {
                    <ul class="inventory-list" data-test="inventory">
                        {rows.into_iter().map(|(depth, item)| {
                            let direct = item.owner == Some(owner) && item.container.is_none();
                            view! {
                                <li style=format!("margin-left: {}rem", f64::from(depth) * 1.25)>
                                    <span>{format!("{} × {}", item.name, item.quantity)}</span>
                                    <span class="muted">{format!(" {}", item.item_type.replace('_', " "))}</span>
                                    {direct.then(|| view! {
                                        <GiveTo campaign item=item.id name=item.name.clone() holder=Some(owner) actors given />
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// "Give to…": hands an item to another actor of the campaign, or (from an
/// actor) to the stash. The server checks who may: the GM anything, a
/// player between the actors they play.
#[component]
pub fn GiveTo(
    campaign: CampaignId,
    item: ItemId,
    name: String,
    /// Who holds it now (`None`: the stash).
    holder: Option<ActorId>,
    /// The campaign's actors, to choose from.
    actors: Resource<Result<Vec<ActorRecord>, AppError>>,
    /// Called once it moved.
    given: Callback<()>,
) -> impl IntoView {
    let cache = QueryCache::get();
    let give = Action::new(move |to: &Option<ActorId>| {
        let to = *to;
        async move {
            let done = move_item(campaign, item, to, None).await;
            if done.is_ok() {
                cache.invalidate(&QueryCache::key(campaign, "items"));
                given.run(());
            }
            done
        }
    });
    view! {
        <label class="give">
            <span class="visually-hidden">{format!("Give {name} to")}</span>
            <select on:change=move |e| {
                let chosen = event_target_value(&e);
                let to = chosen.parse::<uuid::Uuid>().ok().map(ActorId);
                if chosen == "stash" || to.is_some() {
                    give.dispatch(to);
                }
            }>
                <option value="">"Give to…"</option>
                {holder.is_some().then(|| view! { <option value="stash">"The stash"</option> })}
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        actors.await.unwrap_or_default().into_iter()
                            .filter(|a| Some(a.id) != holder)
                            .map(|a| view! { <option value=a.id.to_string()>{a.name}</option> })
                            .collect_view()
                    })}
                </Suspense>
            </select>
        </label>
        {move || give.value().get().and_then(Result::err).map(|e| view! { <span role="alert" class="error">{e.to_string()}</span> })}
    }
    .into_any()
}

/// The items in display order, each with how deep it sits in containers:
/// an item, then what it holds.
fn nested(items: &[ItemRecord]) -> Vec<(u32, ItemRecord)> {
    fn add(
        items: &[ItemRecord],
        parent: Option<ItemId>,
        depth: u32,
        out: &mut Vec<(u32, ItemRecord)>,
    ) {
        // The depth bound also ends a cycle a corrupt row could make.
        if depth > 16 {
            return;
        }
        for item in items.iter().filter(|i| i.container == parent) {
            out.push((depth, item.clone()));
            add(items, Some(item.id), depth + 1, out);
        }
    }
    let mut out = Vec::with_capacity(items.len());
    // Items whose container is not in the list (should not happen) show at
    // the top level rather than vanish.
    let known: std::collections::BTreeSet<ItemId> = items.iter().map(|i| i.id).collect();
    let orphans: Vec<ItemRecord> = items
        .iter()
        .filter(|i| i.container.is_some_and(|c| !known.contains(&c)))
        .map(|i| ItemRecord {
            container: None,
            ..i.clone()
        })
        .collect();
    add(items, None, 0, &mut out);
    add(&orphans, None, 0, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shared::id::CampaignId;

    use super::*;

    #[test]
    fn containers_list_what_they_hold_under_them() {
        let item = |n: u128, container: Option<u128>| ItemRecord {
            id: ItemId(uuid::Uuid::from_u128(n)),
            campaign: CampaignId(uuid::Uuid::from_u128(2)),
            name: format!("Item {n}"),
            item_type: "gear".into(),
            compendium_ref: None,
            owner: None,
            container: container.map(|c| ItemId(uuid::Uuid::from_u128(c))),
            quantity: 1,
            base_properties: json!({}),
            custom_properties: json!({}),
        };
        let items = vec![
            item(3, Some(1)),
            item(1, None),
            item(2, None),
            item(4, Some(9)),
        ];
        let order: Vec<(u32, u128)> = nested(&items)
            .into_iter()
            .map(|(depth, i)| (depth, i.id.0.as_u128()))
            .collect();
        assert_eq!(order, vec![(0, 1), (1, 3), (0, 2), (0, 4)]);
    }
}

/// For the GM: who plays the actor, changed in place. Nothing for others.
/// Drawn only in the browser, once hydrated (the members are fetched by an
/// effect, which the server never runs), so the server's HTML and the
/// hydrating page agree whatever the caller's role.
#[component]
fn OwnerPicker(campaign: CampaignId, actor: ActorId, owner: Option<UserId>) -> impl IntoView {
    let cache = QueryCache::get();
    let members = RwSignal::new(None::<Vec<shared::membership::Member>>);
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let gm = cache
                .fetch(
                    QueryCache::key(campaign, "overview"),
                    Staleness::Campaign,
                    crate::play::campaign_overview(campaign),
                )
                .await
                .is_ok_and(|overview| overview.role.is_gm_or_assistant());
            if !gm {
                return;
            }
            if let Ok(list) = crate::membership::list_members(campaign).await {
                members.set(Some(list));
            }
        });
    });
    let give = Action::new(move |owner: &Option<UserId>| {
        let owner = *owner;
        async move {
            let done = set_actor_owner(campaign, actor, owner).await;
            if done.is_ok() {
                cache.invalidate(&QueryCache::key(campaign, "actors"));
            }
            done
        }
    });
    move || {
        members.get().map(|members| {
            view! {
                <label class="field owner-picker">"Played by"
                    <select data-test="owner" on:change=move |ev| {
                        give.dispatch(event_target_value(&ev).parse::<uuid::Uuid>().ok().map(UserId));
                    }>
                        <option value="" selected=owner.is_none()>"Nobody (the GM's)"</option>
                        {members
                            .into_iter()
                            .filter(|m| m.role != shared::rules::Role::Observer)
                            .map(|m| view! {
                                <option value=m.user.to_string() selected=owner == Some(m.user)>{m.display_name}</option>
                            })
                            .collect_view()}
                    </select>
                </label>
                {move || give.value().get().map(|done| match done {
                    Ok(()) => view! { <p role="status" class="muted" data-test="owner-saved">"Saved."</p> }.into_any(),
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                })}
            }
        })
    }
}
