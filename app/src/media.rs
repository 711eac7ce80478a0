//! Server function for the media library. Uploads are not a server
//! function: they stream as the raw request body to
//! `POST /api/campaigns/{id}/media?name=…&kind=…`, which answers with a
//! [`shared::media::UploadReceipt`], and files are read from `/media/{id}`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    id::{CampaignId, MediaId},
    media::MediaFile,
};

use crate::AppError;

/// The media files of a campaign, newest first, for its members.
#[server(endpoint = "media/list", input = Json)]
pub async fn list_media(campaign: CampaignId) -> Result<Vec<MediaFile>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.list_media(&user, campaign).await },
    )
    .await
}

/// Shows a media file to the campaign's players and observers, or hides it
/// again; for the GM and assistant GMs.
#[server(endpoint = "media/show", input = Json)]
pub async fn show_media(campaign: CampaignId, file: MediaId, shown: bool) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.show_media(&user, campaign, file, shown).await
    })
    .await
}

/// Hands a media file of a session's campaign to the whole table
/// (`to: None`) or to the members named, for the GM and assistant GMs;
/// the table then shows it ([`shared::action::Action::ShowHandout`]).
#[server(endpoint = "sessions/hand_out", input = Json)]
pub async fn hand_out(
    session: shared::id::SessionId,
    file: MediaId,
    to: Option<Vec<shared::id::UserId>>,
) -> Result<shared::media::Handout, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.hand_out(&user, session, file, to).await
    })
    .await
}

/// The media files of a session's campaign the caller may see.
#[server(endpoint = "sessions/media", input = Json)]
pub async fn session_media(session: shared::id::SessionId) -> Result<Vec<MediaFile>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.session_media(&user, session).await },
    )
    .await
}

/// The handouts the caller keeps in a campaign, last shown first.
#[server(endpoint = "media/handouts", input = Json)]
pub async fn handouts(campaign: CampaignId) -> Result<Vec<shared::media::Handout>, AppError> {
    crate::backend::as_user(|backend, user| async move { backend.handouts(&user, campaign).await })
        .await
}

/// The campaign's media library: upload with a progress bar (a file whose
/// bytes the campaign already holds says so), and the files. The GM sees
/// every file and shows or hides each; players see the shown ones.
#[component]
pub fn MediaSection(campaign: shared::id::CampaignId, gm: bool) -> impl IntoView {
    use crate::storage::{QueryCache, Staleness};
    use shared::media::MediaKind;
    let cache = QueryCache::get();
    let uploaded = RwSignal::new(0u32);
    let files = cache.resource(
        QueryCache::key(campaign, "media"),
        Staleness::Campaign,
        move || uploaded.get(),
        move || list_media(campaign),
    );
    let progress = RwSignal::new(None::<f64>);
    let outcome = RwSignal::new(None::<Result<shared::media::UploadReceipt, String>>);
    let kind = RwSignal::new(MediaKind::Map.slug().to_owned());
    let input = NodeRef::<leptos::html::Input>::new();
    let toggle_failed = RwSignal::new(None::<String>);
    let toggle = Action::new(move |(file, shown): &(MediaId, bool)| {
        let (file, shown) = (*file, *shown);
        async move {
            match show_media(campaign, file, shown).await {
                Ok(()) => {
                    toggle_failed.set(None);
                    cache.invalidate(&QueryCache::key(campaign, "media"));
                    uploaded.update(|n| *n += 1);
                }
                Err(error) => toggle_failed.set(Some(error.to_string())),
            }
        }
    });
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = upload::chosen(input) else {
                outcome.set(Some(Err("choose a file first".into())));
                return;
            };
            progress.set(Some(0.0));
            outcome.set(None);
            let name = String::from(js_sys::encode_uri_component(&file.name()));
            let kind = kind.get_untracked();
            upload::send(
                format!("/api/campaigns/{campaign}/media?name={name}&kind={kind}"),
                file,
                progress,
                move |done| {
                    progress.set(None);
                    if done.is_ok() {
                        cache.invalidate(&QueryCache::key(campaign, "media"));
                        uploaded.update(|n| *n += 1);
                    }
                    outcome.set(Some(done));
                },
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (input, kind, progress, cache);
    };
    view! {
        <section class="card media-library" aria-labelledby="media-heading">
            <h2 id="media-heading">"Media"</h2>
            <div class="upload">
                <label for="media-file">"File"</label>
                <input id="media-file" type="file" node_ref=input accept="image/*,audio/*,video/*,application/pdf" />
                <label for="media-kind">"Kind"</label>
                <select id="media-kind" bind:value=kind>
                    {MediaKind::ALL
                        .into_iter()
                        .map(|k| view! { <option value=k.slug()>{k.slug()}</option> })
                        .collect_view()}
                </select>
                <button type="button" on:click=start disabled=move || progress.get().is_some()>
                    "Upload"
                </button>
            </div>
            {move || progress.get().map(|p| view! {
                <progress max="1" value=p data-test="upload-progress" aria-label="Upload progress">
                    {format!("{:.0} %", p * 100.0)}
                </progress>
            })}
            {move || outcome.get().map(|done| match done {
                Ok(receipt) if receipt.deduplicated => view! {
                    <p class="muted" role="status" data-test="upload-outcome">
                        {format!("{}: this campaign already holds these bytes; no new copy was made", receipt.file.name.as_str())}
                    </p>
                }.into_any(),
                Ok(receipt) => view! {
                    <p role="status" data-test="upload-outcome">
                        {format!("{}: uploaded ({} bytes)", receipt.file.name.as_str(), receipt.file.size)}
                    </p>
                }.into_any(),
                Err(error) => view! { <p role="alert" class="error" data-test="upload-outcome">{error}</p> }.into_any(),
            })}
            {move || toggle_failed.get().map(|error| view! { <p role="alert" class="error">{error}</p> })}
            {(!gm).then(|| view! {
                <p class="muted">"Files appear here when the GM shows them."</p>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading media…"</p> }>
                {move || Suspend::new(async move {
                    match files.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No media yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="media-list">
                                {list.into_iter().map(|file| {
                                    let (id, shown, handed) = (file.id, file.shown, file.handed_to);
                                    view! {
                                        <li data-test="media-file" data-shown=shown.to_string()>
                                            <a href=format!("/media/{}", file.id) target="_blank">{file.name.as_str().to_owned()}</a>
                                            <span class="muted">{format!(" {} · {} bytes", file.kind.slug(), file.size)}</span>
                                            {gm.then(|| view! {
                                                <span class="badge" data-test="media-visibility">
                                                    {match (shown, handed) {
                                                        (true, _) => "shown to players".to_owned(),
                                                        (false, 0) => "GM only".to_owned(),
                                                        (false, 1) => "handed to 1 member".to_owned(),
                                                        (false, n) => format!("handed to {n} members"),
                                                    }}
                                                </span>
                                                // Hiding a file takes it back from each it was
                                                // handed to at the table.
                                                {(!shown && handed > 0).then(|| view! {
                                                    <button
                                                        type="button"
                                                        class="link"
                                                        data-test="media-take-back"
                                                        disabled=move || toggle.pending().get()
                                                        on:click=move |_| { toggle.dispatch((id, false)); }
                                                    >
                                                        "Take back"
                                                    </button>
                                                })}
                                                <button
                                                    type="button"
                                                    class="link"
                                                    data-test="media-toggle"
                                                    disabled=move || toggle.pending().get()
                                                    on:click=move |_| { toggle.dispatch((id, !shown)); }
                                                >
                                                    {if shown { "Hide from players" } else { "Show to players" }}
                                                </button>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// The handouts the caller keeps in the campaign, last shown first, each
/// opening in the table's viewer; for the GM, every file handed out.
#[component]
pub fn HandoutsSection(campaign: CampaignId) -> impl IntoView {
    let kept = Resource::new(|| (), move |_| handouts(campaign));
    let viewing = RwSignal::new(None::<shared::media::Handout>);
    view! {
        <section class="card handouts" aria-labelledby="campaign-handouts-heading" data-test="campaign-handouts">
            <h2 id="campaign-handouts-heading">"Handouts"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading handouts…"</p> }>
                {move || Suspend::new(async move {
                    match kept.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"Nothing handed out yet: what the GM shows at the table is kept here."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="handout-list">
                                {list.into_iter().map(|handout| {
                                    let name = handout.name.as_str().to_owned();
                                    view! {
                                        <li><button type="button" class="link" data-test="handout-open"
                                            on:click=move |_| viewing.set(Some(handout.clone()))>{name}</button></li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            {crate::table::handout::viewer(viewing)}
        </section>
    }
    .into_any()
}

/// The upload itself, in the browser: an `XMLHttpRequest`, because it
/// reports upload progress (fetch does not).
/// Used for media and for a campaign document to import.
#[cfg(feature = "hydrate")]
pub(crate) mod upload {
    use leptos::prelude::*;
    use serde::de::DeserializeOwned;
    use wasm_bindgen::{JsCast, closure::Closure};

    /// The file chosen in a file input, if any.
    pub fn chosen(input: NodeRef<leptos::html::Input>) -> Option<web_sys::File> {
        input
            .get_untracked()
            .and_then(|el| el.files())
            .and_then(|files| files.get(0))
    }

    /// POSTs `file` to `url`, with its progress (0 to 1) in `progress`,
    /// then `done` with the answer read as `T`, or the server's error.
    pub fn send<T: DeserializeOwned>(
        url: String,
        file: web_sys::File,
        progress: RwSignal<Option<f64>>,
        done: impl Fn(Result<T, String>) + 'static,
    ) {
        let failed = |what: &str| format!("the upload could not start: {what}");
        let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
            done(Err(failed("no XMLHttpRequest")));
            return;
        };
        if xhr.open_with_async("POST", &url, true).is_err() {
            done(Err(failed("the request could not be opened")));
            return;
        }
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    progress.set(Some(e.loaded() / e.total()));
                }
            });
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        let reader = xhr.clone();
        let on_end = Closure::<dyn FnMut()>::new(move || {
            let status = reader.status().unwrap_or(0);
            let body = reader.response_text().ok().flatten().unwrap_or_default();
            let outcome = if (200..300).contains(&status) {
                serde_json::from_str::<T>(&body)
                    .map_err(|e| format!("the server's answer could not be read: {e}"))
            } else {
                Err(serde_json::from_str::<crate::AppError>(&body)
                    .map(|e| e.to_string())
                    .unwrap_or_else(|_| format!("the upload failed ({status})")))
            };
            done(outcome);
        });
        xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
        // Both live as long as the page: an upload is rare enough.
        on_progress.forget();
        on_end.forget();
        if xhr.send_with_opt_blob(Some(&file)).is_err() {
            progress.set(None);
        }
    }
}

/// The campaign's images as the options of an image select (after its
/// "None"): a map in the encounter form and the editor, a portrait.
/// `selected` is the one in use: the options arrive after the select is
/// drawn, so the select cannot pick it by value.
#[component]
pub fn ImageOptions(
    campaign: CampaignId,
    #[prop(default = None)] selected: Option<MediaId>,
) -> impl IntoView {
    let media = crate::storage::QueryCache::get().resource(
        crate::storage::QueryCache::key(campaign, "media"),
        crate::storage::Staleness::Campaign,
        || 0,
        move || crate::media::list_media(campaign),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                media.await.unwrap_or_default().into_iter().filter(|m| m.mime_type.starts_with("image/")).map(|m| view! {
                    <option value=m.id.to_string() selected=Some(m.id) == selected>{m.name.as_str().to_owned()}</option>
                }).collect_view()
            })}
        </Suspense>
    }
}
