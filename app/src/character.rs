//! `/campaigns/:id/characters/new`: building a character. A player builds
//! their own; the GM builds NPCs and characters for a player. Species and
//! class come from the compendium (speed, hit die and saving throws filled
//! in from them) or are typed; ability scores by standard array, point buy
//! or by hand. Every field is checked as it is typed, by the same
//! `shared::character` rules the server applies.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};
use shared::{
    account::User,
    actor::{ABILITIES, ActorKind, modifier},
    campaign::CampaignOverview,
    character::{
        AbilityMethod, CharacterDraft, CharacterOptions, FieldError, POINT_BUY_BUDGET, SKILLS,
        STANDARD_ARRAY, points_spent, suggested_hp,
    },
    id::{ActorId, CampaignId, MediaId, UserId},
    membership::Member,
    rules::Role,
};

use crate::{
    AppError,
    content::{NewActorRequest, character_options, create_actor},
    storage::QueryCache,
};

/// Everything the form needs before it can be drawn.
#[derive(Clone, Serialize, Deserialize)]
struct Setup {
    campaign: CampaignId,
    me: User,
    role: Role,
    options: CharacterOptions,
    /// The players a GM may build a character for (empty for a player).
    players: Vec<Member>,
}

async fn setup(campaign: CampaignId) -> Result<Setup, AppError> {
    let me = crate::account::current_user()
        .await?
        .ok_or(AppError::Unauthorized)?;
    let CampaignOverview { role, .. } = crate::play::campaign_overview(campaign).await?;
    let options = character_options().await?;
    let players = if role.is_gm_or_assistant() {
        crate::membership::list_members(campaign)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::Player)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Setup {
        campaign,
        me,
        role,
        options,
        players,
    })
}

/// The page.
#[component]
pub fn NewCharacterPage() -> impl IntoView {
    let campaign = crate::campaign::campaign_param();
    let loaded = Resource::new(campaign, |campaign| async move {
        setup(campaign.ok_or(AppError::Forbidden)?).await
    });
    view! {
        <Title text="New character" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok(setup) => view! { <CharacterForm setup /> }.into_any(),
                    Err(AppError::Unauthorized) => view! {
                        <p class="muted"><A href="/login">"Log in"</A>" to build a character."</p>
                    }
                    .into_any(),
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The form, once loaded.
#[component]
fn CharacterForm(setup: Setup) -> impl IntoView {
    let Setup {
        campaign,
        me,
        role,
        options,
        players,
    } = setup;
    let gm = role.is_gm_or_assistant();
    let options = StoredValue::new(options);
    let players = StoredValue::new(players);
    let draft = RwSignal::new(CharacterDraft::default());
    let kind = RwSignal::new(ActorKind::Character);
    // A player's character is theirs; a GM's NPC nobody's, a GM's
    // character the chosen player's.
    let owner = RwSignal::new(if gm { None } else { Some(me.id) });
    let tried = RwSignal::new(false);
    let problems = Memo::new(move |_| draft.with(CharacterDraft::problems));
    let problem = move |field: &'static str| {
        move || {
            tried
                .get()
                .then(|| problems.with(|all| first_for(all, field)))
                .flatten()
                .map(|message| view! { <p class="error field-error" data-test=format!("error-{field}")>{message}</p> })
        }
    };
    // Memos, so that the effects below that fill fields in run when the
    // class or species changes, not on every keystroke (and not on their
    // own writes).
    let class_key = Memo::new(move |_| draft.with(|d| d.class.trim().to_lowercase()));
    let species_key = Memo::new(move |_| draft.with(|d| d.species.trim().to_lowercase()));
    let class = move || {
        let name = class_key.get();
        options.with_value(|o| {
            o.classes
                .iter()
                .find(|c| c.name.to_lowercase() == name)
                .cloned()
        })
    };
    let suggested = move || {
        class().map(|class| {
            let con = draft.with(|d| d.abilities[2]);
            suggested_hp(class.hit_die, draft.with(|d| d.level), con)
        })
    };

    let navigate = leptos_router::hooks::use_navigate();
    let cache = QueryCache::get();
    let create = Action::new(move |request: &NewActorRequest| {
        let request = request.clone();
        async move { create_actor(campaign, request).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(actor)) = create.value().get() {
            cache.invalidate(&QueryCache::key(campaign, "actors"));
            navigate(&sheet_url(campaign, actor), Default::default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if !problems.with(Vec::is_empty) {
            return;
        }
        let character = draft.get();
        create.dispatch(NewActorRequest {
            compendium_ref: None,
            name: Some(character.name.clone()),
            kind: kind.get(),
            level: None,
            character_class: None,
            owner: if kind.get() == ActorKind::Character {
                owner.get()
            } else {
                None
            },
            character: Some(character),
        });
    };

    let text = move |read: fn(&CharacterDraft) -> &String,
                     write: fn(&mut CharacterDraft, String)| {
        (
            move || draft.with(|d| read(d).clone()),
            move |ev| draft.update(|d| write(d, event_target_value(&ev))),
        )
    };
    let (name, set_name) = text(|d| &d.name, |d, v| d.name = v);
    let (class_name, set_class) = text(|d| &d.class, |d, v| d.class = v);
    let (species, set_species) = text(|d| &d.species, |d, v| d.species = v);
    // Picking a known class fills in its saving throws; a known species its
    // speed. Typing something else leaves them as they are.
    Effect::new(move |_| {
        if let Some(class) = class() {
            draft.update(|d| d.saves = class.saves.clone());
        }
    });
    Effect::new(move |_| {
        let name = species_key.get();
        let speed = options.with_value(|o| {
            o.species
                .iter()
                .find(|s| s.name.to_lowercase() == name)
                .map(|s| s.speed)
        });
        if let Some(speed) = speed {
            draft.update(|d| d.speed = speed);
        }
    });
    let number = move |read: fn(&CharacterDraft) -> i64, write: fn(&mut CharacterDraft, i64)| {
        (
            move || draft.with(|d| read(d).to_string()),
            move |ev| {
                let value = event_target_value(&ev).trim().parse().unwrap_or(0);
                draft.update(|d| write(d, value));
            },
        )
    };
    let (level, set_level) = number(
        |d| i64::from(d.level),
        |d, v| d.level = u32::try_from(v).unwrap_or(0),
    );
    let (hp, set_hp) = number(|d| d.hp_max, |d, v| d.hp_max = v);
    let (ac, set_ac) = number(|d| d.armor_class, |d, v| d.armor_class = v);
    let (speed, set_speed) = number(
        |d| i64::from(d.speed),
        |d, v| d.speed = u32::try_from(v).unwrap_or(u32::MAX),
    );
    let method = move || draft.with(|d| d.method);
    let set_method = move |chosen: AbilityMethod| {
        draft.update(|d| {
            d.method = chosen;
            d.abilities = match chosen {
                AbilityMethod::StandardArray => STANDARD_ARRAY,
                AbilityMethod::PointBuy => [8; 6],
                AbilityMethod::Manual => d.abilities,
            };
        });
    };
    let points_left = move || {
        draft.with(|d| match points_spent(&d.abilities) {
            Some(spent) => format!(
                "{} of {POINT_BUY_BUDGET} points left",
                POINT_BUY_BUDGET - spent
            ),
            None => "every score is from 8 to 15".to_owned(),
        })
    };

    let owner_fields = view! {
            <Show when=move || gm>
                <div class="field-row">
                    <label class="field">"Kind"
                        <select on:change=move |ev| kind.set(if event_target_value(&ev) == "npc" { ActorKind::Npc } else { ActorKind::Character })>
                            <option value="character" selected=move || kind.get() == ActorKind::Character>"Character"</option>
                            <option value="npc" selected=move || kind.get() == ActorKind::Npc>"NPC"</option>
                        </select>
                    </label>
                    <Show when=move || kind.get() == ActorKind::Character>
                        <label class="field">"Played by"
                            <select on:change=move |ev| owner.set(event_target_value(&ev).parse::<uuid::Uuid>().ok().map(UserId))>
                                <option value="">"Nobody yet"</option>
                                {players.with_value(|all| all.iter().map(|p| view! { <option value=p.user.to_string()>{p.display_name.clone()}</option> }).collect_view())}
                            </select>
                        </label>
                    </Show>
                </div>
            </Show>
    }
    .into_any();
    let identity = view! {
            <div class="field-row">
                <label class="field">"Name"
                    <input type="text" data-test="name" prop:value=name on:input=set_name maxlength="100" aria-invalid=move || (tried.get() && problems.with(|p| first_for(p, "name").is_some())).to_string() />
                    {problem("name")}
                </label>
                <label class="field">"Species"
                    <input type="text" data-test="species" list="species-options" prop:value=species on:input=set_species />
                    {problem("species")}
                </label>
                <label class="field">"Class"
                    <input type="text" data-test="class" list="class-options" prop:value=class_name on:input=set_class />
                    {problem("class")}
                </label>
                <label class="field narrow">"Level"
                    <input type="number" data-test="level" min="1" max="20" prop:value=level on:input=set_level />
                    {problem("level")}
                </label>
            </div>
            <datalist id="species-options">
                {options.with_value(|o| o.species.iter().map(|s| view! { <option value=s.name.clone()></option> }).collect_view())}
            </datalist>
            <datalist id="class-options">
                {options.with_value(|o| o.classes.iter().map(|c| view! { <option value=c.name.clone()></option> }).collect_view())}
            </datalist>
    }
    .into_any();
    let abilities = view! {
            <fieldset class="abilities-field">
                <legend>"Ability scores"</legend>
                <div class="method" role="radiogroup" aria-label="How the scores are chosen">
                    {[
                        (AbilityMethod::StandardArray, "Standard array"),
                        (AbilityMethod::PointBuy, "Point buy"),
                        (AbilityMethod::Manual, "Entered by hand"),
                    ]
                        .into_iter()
                        .map(|(choice, label)| view! {
                            <label class="choice">
                                <input type="radio" name="method" prop:checked=move || method() == choice on:change=move |_| set_method(choice) />
                                {label}
                            </label>
                        })
                        .collect_view()}
                </div>
                <div class="ability-grid">
                    {ABILITIES
                        .iter()
                        .enumerate()
                        .map(|(at, (long, _))| {
                            let score = move || draft.with(|d| d.abilities[at]);
                            let set = move |ev| {
                                let value = event_target_value(&ev).trim().parse().unwrap_or(0);
                                draft.update(|d| d.abilities[at] = value);
                            };
                            view! {
                                <label class="field ability">
                                    {capitalized(long)}
                                    <input type="number" data-test=format!("ability-{long}") min="1" max="30" prop:value=move || score().to_string() on:input=set />
                                    <span class="muted modifier">{move || signed(modifier(score()))}</span>
                                </label>
                            }
                        })
                        .collect_view()}
                </div>
                <Show when=move || method() == AbilityMethod::PointBuy>
                    <p class="muted" data-test="points-left">{points_left}</p>
                </Show>
                <Show when=move || method() == AbilityMethod::StandardArray>
                    <p class="muted">"Use 15, 14, 13, 12, 10 and 8, each once."</p>
                </Show>
                {problem("abilities")}
            </fieldset>
    }
    .into_any();
    let numbers = view! {
            <div class="field-row">
                <label class="field narrow">"Hit points"
                    <input type="number" data-test="hp" min="1" max="999" prop:value=hp on:input=set_hp />
                    {problem("hp_max")}
                </label>
                {move || suggested().map(|value| view! {
                    <button type="button" class="secondary" data-test="use-suggested-hp" on:click=move |_| draft.update(|d| d.hp_max = value)>
                        {format!("Use {value} (the class's hit die)")}
                    </button>
                })}
                <label class="field narrow">"Armor class"
                    <input type="number" data-test="ac" min="1" max="30" prop:value=ac on:input=set_ac />
                    {problem("armor_class")}
                </label>
                <label class="field narrow">"Speed (ft)"
                    <input type="number" data-test="speed" min="0" max="120" step="5" prop:value=speed on:input=set_speed />
                    {problem("speed")}
                </label>
            </div>

    }
    .into_any();
    let proficiencies = view! {
            <fieldset>
                <legend>"Saving throw proficiencies"</legend>
                <div class="checks">
                    {ABILITIES.iter().map(|(long, short)| view! {
                        <Check draft label=capitalized(long) value=*short read=|d| &d.saves pick=|d| &mut d.saves />
                    }).collect_view()}
                </div>
                {problem("saves")}
            </fieldset>
            <fieldset>
                <legend>{move || format!("Skill proficiencies (+{})", draft.with(CharacterDraft::proficiency_bonus))}</legend>
                <div class="checks">
                    {SKILLS.iter().map(|(skill, ability)| view! {
                        <Check draft label=format!("{} ({ability})", capitalized(skill)) value=*skill read=|d| &d.skills pick=|d| &mut d.skills />
                    }).collect_view()}
                </div>
                {problem("skills")}
            </fieldset>
            <label class="field">"Portrait"
                <select data-test="portrait" on:change=move |ev| {
                    let picked = event_target_value(&ev).parse::<uuid::Uuid>().ok().map(MediaId);
                    draft.update(|d| d.portrait = picked);
                }>
                    <option value="">"None (initials)"</option>
                    <crate::media::ImageOptions campaign />
                </select>
            </label>

    }
    .into_any();
    view! {
        <h1>{if gm { "New character or NPC" } else { "New character" }}</h1>
        <p><A href=format!("/campaigns/{campaign}")>"Back to the campaign"</A></p>
        <form class="card character-form" on:submit=submit novalidate>
            {owner_fields}
            {identity}

            {abilities}

            {numbers}
            {proficiencies}

            <button type="submit" data-test="create-character" disabled=move || create.pending().get()>
                {move || if kind.get() == ActorKind::Npc { "Create NPC" } else { "Create character" }}
            </button>
            <Show when=move || tried.get() && !problems.with(Vec::is_empty)>
                <p role="alert" class="error" data-test="form-problems">
                    {move || format!("Fix {} thing(s) above first.", problems.with(Vec::len))}
                </p>
            </Show>
            {move || create.value().get().and_then(Result::err).map(|error| view! {
                <p role="alert" class="error" data-test="create-error">{error.to_string()}</p>
            })}
        </form>
    }
}

/// A proficiency checkbox over one of the draft's lists.
#[component]
fn Check(
    draft: RwSignal<CharacterDraft>,
    label: String,
    value: &'static str,
    read: fn(&CharacterDraft) -> &Vec<String>,
    pick: fn(&mut CharacterDraft) -> &mut Vec<String>,
) -> impl IntoView {
    let checked = move || draft.with(|d| read(d).iter().any(|v| v == value));
    let toggle = move |ev| {
        let on = event_target_checked(&ev);
        draft.update(|d| {
            let list = pick(d);
            list.retain(|v| v != value);
            if on {
                list.push(value.to_owned());
            }
        });
    };
    view! {
        <label class="choice">
            <input type="checkbox" prop:checked=checked on:change=toggle />
            {label}
        </label>
    }
}

fn first_for(problems: &[FieldError], field: &str) -> Option<String> {
    problems
        .iter()
        .find(|p| p.field == field)
        .map(|p| p.message.clone())
}

fn sheet_url(campaign: CampaignId, actor: ActorId) -> String {
    format!("/campaigns/{campaign}/actors/{actor}")
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn signed(value: i64) -> String {
    if value >= 0 {
        format!("+{value}")
    } else {
        value.to_string()
    }
}
