import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Article, type ArticleStatus, type ImportReport } from "../api";
import { isAdmin, useApp } from "../context";
import { formatFull } from "../format";
import {
  articleForm,
  articleFromForm,
  filterArticles,
  headVersion,
  importContentType,
  importProblems,
  KB_LANGUAGES,
  languageName,
  originalsFor,
  translationsOf,
  translationsOfOriginal,
  type ArticleFilter,
  type ArticleForm,
  type LineProblem,
} from "../kb";
import { changedMeanwhile, problemWords } from "../problems";
import { revealForm } from "../revealForm";
import { FilePick } from "./FilePick";
import { TryBot } from "./TryBot";
import { Said } from "./Said";
import { useChosen } from "../useChosen";

const STATUSES: ArticleStatus[] = ["draft", "published", "retired"];
const ID_PATTERN = "[A-Za-z0-9_\\-]{1,64}";

type Shown = { kind: "ok" | "error"; text: string };
type FileOutcome = { name: string; report?: ImportReport; error?: string; lines?: LineProblem[] };

/** The knowledge base: articles with their language, status, tags, version and translations; create and edit
 *  (as a draft or published; a published article's draft is kept beside it, which goes on answering, until it
 *  is published or discarded), publish, retire (confirmed, saying which translations stop with it), each
 *  article's versions, bulk import from files, and a box to try what the bot would answer (admins write;
 *  supervisors read). A translation whose original changed since is marked out of date; one whose original is
 *  not published, not answering. */
export function KbAdmin() {
  const { store, t, who, locale } = useApp();
  const admin = isAdmin(who);
  const [articles, setArticles] = useState<Article[]>([]);
  const [filter, setFilter] = useState<ArticleFilter>({ language: "", status: "", text: "" });
  const [editing, setEditing] = useState<Article | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [id, setId] = useState("");
  const [form, setForm] = useState<ArticleForm>(articleForm(null));
  const [message, setMessage] = useState<Shown | null>(null);
  const [history, setHistory] = useState<{ article: Article; versions: Article[] } | null>(null);
  const [retiring, setRetiring] = useState<Article | null>(null);
  const reload = async (): Promise<Article[]> => {
    let items: Article[] = [];
    await store.run(async () => {
      items = (await store.api.articles()).items;
      setArticles(items);
    });
    return items;
  };
  useEffect(() => {
    void reload();
  }, []);
  useChosen(editing, (editing) => {
    setId(editing?.id ?? "");
    setForm(articleForm(editing));
  });

  /** Run a change and say how it went (a 409: someone changed it meanwhile, the list is reloaded). */
  const act = async (action: () => Promise<Article>, done: (a: Article) => string): Promise<Article | null> => {
    setMessage(null);
    try {
      const article = await action();
      setMessage({ kind: "ok", text: done(article) });
      await reload();
      if (history?.article.id === article.id) await showHistory(article);
      return article;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      const conflict = changedMeanwhile(error); // said in the admin's words only, not the API's English
      setMessage({ kind: "error", text: conflict ? t("conflict") : (problemWords(error, t) ?? t("error", { detail })) });
      if (conflict) {
        // someone saved it since: show the latest version, which the next save goes over
        const latest = await reload();
        if (editing) setEditing(latest.find((a) => a.id === editing.id) ?? editing);
      }
      return null;
    }
  };
  const save = async (draft: boolean) => {
    const saved = await act(
      () => store.api.putArticle(id.trim(), articleFromForm(form), draft, editing ? headVersion(editing) : undefined),
      (a) =>
        a.draft
          ? t("kb.savedDraftBeside", { title: a.draft.title, version: a.draft.version })
          : t(draft ? "kb.savedDraft" : "kb.savedPublished", { title: a.title, version: a.version }),
    );
    if (saved) setEditing(saved);
  };
  const showHistory = async (article: Article) => {
    await store.run(async () => setHistory({ article, versions: (await store.api.articleVersions(article.id)).items }));
  };
  const set = (key: keyof ArticleForm) => (e: Event) =>
    setForm({ ...form, [key]: (e.target as HTMLInputElement).value });

  const shown = filterArticles(articles, filter);
  const current = editing ? (articles.find((a) => a.id === editing.id) ?? editing) : null; // as last listed
  const languages = [...new Set([...KB_LANGUAGES, ...articles.map((a) => a.language)])];
  const titleOf = (articleId: string) => articles.find((a) => a.id === articleId)?.title ?? articleId;
  return (
    <section class="kb-admin">
      <h1>{t("admin.kb")}</h1>
      <div class="kb-filters" role="search" aria-label={t("kb.filters")}>
        <label class="field inline">
          <span>{t("language")}</span>
          <select value={filter.language} onChange={(e) => setFilter({ ...filter, language: (e.target as HTMLSelectElement).value })}>
            <option value="">{t("kb.any")}</option>
            {languages.map((l) => (
              <option key={l} value={l}>
                {languageName(l, locale)}
              </option>
            ))}
          </select>
        </label>
        <label class="field inline">
          <span>{t("kb.status")}</span>
          <select
            value={filter.status}
            onChange={(e) => setFilter({ ...filter, status: (e.target as HTMLSelectElement).value as ArticleStatus | "" })}
          >
            <option value="">{t("kb.any")}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`kb.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field inline">
          <span>{t("kb.find")}</span>
          <input type="search" value={filter.text} onInput={(e) => setFilter({ ...filter, text: (e.target as HTMLInputElement).value })} />
        </label>
        <span class="muted small" role="status">
          {t("kb.shown", { shown: shown.length, total: articles.length })}
        </span>
      </div>
      <div class="kb-main">
        <table class="kb-table">
          <caption class="visually-hidden">{t("admin.kb")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("kb.title")}</th>
              <th scope="col">{t("language")}</th>
              <th scope="col">{t("kb.status")}</th>
              <th scope="col">{t("kb.tags")}</th>
              <th scope="col">{t("kb.version")}</th>
              <th scope="col">{t("kb.translations")}</th>
              <th scope="col">
                <span class="visually-hidden">{t("actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.id}>
                <th scope="row">
                  {a.title} <span class="muted small">{a.id}</span>
                  {a.url && (
                    <>
                      {" "}
                      <a href={a.url} target="_blank" rel="noreferrer" class="small" aria-label={`${t("kb.link")}: ${a.title}`}>
                        {t("kb.link")}
                      </a>
                    </>
                  )}
                </th>
                <td>{a.language}</td>
                <td>
                  <span class={`chip kb-${a.status}`}>{t(`kb.status.${a.status}`)}</span>
                  {a.draft && (
                    <>
                      {" "}
                      <span class="chip kb-draft">{t("kb.draftPending", { version: a.draft.version })}</span>
                    </>
                  )}
                  {a.outdated && (
                    <>
                      {" "}
                      <span class="chip kb-outdated" title={t("kb.outdatedHelp")}>
                        {t("kb.outdated")}
                        <span class="visually-hidden">: {t("kb.outdatedHelp")}</span>
                      </span>
                    </>
                  )}
                  {a.status === "published" && a.answering === false && (
                    <>
                      {" "}
                      <span class="chip kb-not-answering" title={t("kb.notAnsweringHelp")}>
                        {t("kb.notAnswering")}
                        <span class="visually-hidden">: {t("kb.notAnsweringHelp")}</span>
                      </span>
                    </>
                  )}
                </td>
                <td>{(a.tags ?? []).join(", ")}</td>
                <td>{a.version}</td>
                <td class="small">
                  {a.translation_of && <span>{t("kb.translates", { title: titleOf(a.translation_of) })} </span>}
                  {translationsOf(articles, a)
                    .filter((x) => x.id !== a.translation_of)
                    .map((x) => `${x.language}: ${x.title}`)
                    .join(" · ")}
                </td>
                <td class="kb-actions">
                  {admin && (
                    <button class="btn btn-small" onClick={() => {
                        setEditing(a);
                        revealForm(formRef);
                      }}
                      aria-label={`${t("edit")}: ${a.title}`}>
                      {t("edit")}
                    </button>
                  )}{" "}
                  <button class="btn btn-small" onClick={() => void showHistory(a)} aria-label={`${t("kb.history")}: ${a.title}`}>
                    {t("kb.history")}
                  </button>{" "}
                  {admin && (a.status !== "published" || a.draft) && (
                    <button
                      class="btn btn-small"
                      aria-label={`${t(a.draft ? "kb.publishDraft" : "kb.publish")}: ${a.title}`}
                      onClick={() =>
                        void act(
                          () => store.api.publishArticle(a.id, headVersion(a)),
                          (p) => t("kb.published", { title: p.title, version: p.version }),
                        )
                      }
                    >
                      {t(a.draft ? "kb.publishDraft" : "kb.publish")}
                    </button>
                  )}{" "}
                  {admin && a.draft && (
                    <button
                      class="btn btn-small"
                      aria-label={`${t("kb.discardDraft")}: ${a.title}`}
                      onClick={() =>
                        void act(
                          () => store.api.discardArticleDraft(a.id, headVersion(a)),
                          (d) => t("kb.draftDiscarded", { title: d.title, version: d.version }),
                        )
                      }
                    >
                      {t("kb.discardDraft")}
                    </button>
                  )}{" "}
                  {admin && a.status !== "retired" && (
                    <button class="btn btn-small" onClick={() => setRetiring(a)} aria-label={`${t("kb.retire")}: ${a.title}`}>
                      {t("kb.retire")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!shown.length && <p class="muted">{articles.length ? t("kb.noneMatch") : t("kb.empty")}</p>}
        <Said message={message} />
        {admin && (
          <>
            <button
              class="btn btn-small"
              onClick={() => {
                setEditing(null);
                revealForm(formRef);
              }}
            >
              + {t("kb.new")}
            </button>
            <form
              ref={formRef}
              class="card form kb-form"
              aria-label={editing ? t("kb.editing", { title: editing.title }) : t("kb.new")}
              onSubmit={(e) => {
                e.preventDefault();
                void save(false);
              }}
            >
              <h2>{editing ? t("kb.editing", { title: editing.title }) : t("kb.new")}</h2>
              {current && (
                <p class="muted small">
                  {t(`kb.status.${current.status}`)} · {t("version", { version: current.version })}
                  {current.draft && <> · {t("kb.editingDraft", { draft: current.draft.version, version: current.version })}</>}
                </p>
              )}
              <label class="field">
                <span>{t("id")}</span>
                <input value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} readOnly={!!editing} required pattern={ID_PATTERN} />
              </label>
              <label class="field">
                <span>{t("kb.title")}</span>
                <input value={form.title} onInput={set("title")} required maxLength={200} />
              </label>
              <label class="field">
                <span>{t("kb.body")}</span>
                <textarea rows={6} value={form.body} onInput={set("body")} required maxLength={10000} />
              </label>
              <label class="field">
                <span>{t("language")}</span>
                <select value={form.language} onChange={set("language")}>
                  {languages.map((l) => (
                    <option key={l} value={l}>
                      {languageName(l, locale)}
                    </option>
                  ))}
                </select>
              </label>
              <label class="field">
                <span>{t("kb.tagsHelp")}</span>
                <input value={form.tags} onInput={set("tags")} />
              </label>
              <label class="field">
                <span>{t("kb.url")}</span>
                <input type="url" value={form.url} onInput={set("url")} placeholder="https://" />
              </label>
              <label class="field">
                <span>{t("kb.translationOf")}</span>
                <select value={form.translation_of} onChange={set("translation_of")}>
                  <option value="">{t("kb.original")}</option>
                  {originalsFor(articles, id.trim()).map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.title} ({a.language}, {a.id})
                    </option>
                  ))}
                </select>
              </label>
              <div class="row">
                <button class="btn btn-primary" type="submit">
                  {t("kb.savePublish")}
                </button>{" "}
                <button
                  class="btn"
                  type="button"
                  onClick={(e) => {
                    const f = (e.currentTarget as HTMLButtonElement).form;
                    if (f?.reportValidity()) void save(true);
                  }}
                >
                  {t("kb.saveDraft")}
                </button>
              </div>
            </form>
          </>
        )}
        {history && <VersionHistory article={history.article} versions={history.versions} onClose={() => setHistory(null)} />}
      </div>
      <div class="kb-side">
        <TryBot unpublished={admin ? articles.filter((a) => a.status !== "published" || a.draft) : []} />
        {admin && <ImportArticles reload={reload} />}
      </div>
      <RetireDialog
        article={retiring}
        translations={retiring ? translationsOfOriginal(articles, retiring).filter((x) => x.status === "published") : []}
        onCancel={() => setRetiring(null)}
        onConfirm={(a) => {
          setRetiring(null);
          void act(() => store.api.retireArticle(a.id), (r) => t("kb.retired", { title: r.title, version: r.version }));
        }}
      />
    </section>
  );
}

function VersionHistory({ article, versions, onClose }: { article: Article; versions: Article[]; onClose: () => void }) {
  const { t, locale, timeZone } = useApp();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [article.id]);
  return (
    <section class="card kb-history" aria-labelledby="kb-history-title">
      <h2 id="kb-history-title" tabIndex={-1} ref={heading}>
        {t("kb.versionsOf", { title: article.title })}
      </h2>
      <ol class="plain" aria-label={t("kb.versionsOf", { title: article.title })}>
        {[...versions].reverse().map((v) => (
          <li key={v.version}>
            <details>
              <summary>
                {t("version", { version: v.version })} · {t(`kb.status.${v.status}`)} · {v.title}
                {v.updated_at && <span class="muted small"> · {formatFull(v.updated_at, locale, timeZone)}</span>}
                {v.updated_by && <span class="muted small"> · {v.updated_by}</span>}
              </summary>
              <p class="small kb-body">{v.body}</p>
              <p class="muted small">
                {v.language}
                {(v.tags ?? []).length ? ` · ${(v.tags ?? []).join(", ")}` : ""}
                {v.url ? ` · ${v.url}` : ""}
              </p>
            </details>
          </li>
        ))}
      </ol>
      <button class="btn btn-small" onClick={onClose}>
        {t("close")}
      </button>
    </section>
  );
}

function RetireDialog({
  article,
  translations,
  onCancel,
  onConfirm,
}: {
  article: Article | null;
  translations: Article[]; // the original's published translations, which stop answering with it
  onCancel: () => void;
  onConfirm: (a: Article) => void;
}) {
  const { t } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const shown = useRef<{ article: Article; translations: Article[] } | null>(null);
  if (article) shown.current = { article, translations };
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (article && !dialog.open) dialog.showModal();
    if (!article && dialog.open) dialog.close();
  }, [article]);
  const a = shown.current?.article ?? null;
  const stopping = shown.current?.translations ?? [];
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="kb-retire-title" aria-describedby="kb-retire-text" onClose={onCancel}>
      <h2 id="kb-retire-title">{t("kb.retireTitle", { title: a?.title ?? "" })}</h2>
      <p id="kb-retire-text">
        {t("kb.retireText")}
        {stopping.length > 0 && <> {t("kb.retireTranslations", { languages: stopping.map((x) => x.language).join(", ") })}</>}
        {a?.draft && <> {t("kb.retireDraft")}</>}
      </p>
      <button class="btn btn-primary" onClick={() => a && onConfirm(a)}>
        {t("kb.retire")}
      </button>{" "}
      <button class="btn" onClick={onCancel}>
        {t("cancel")}
      </button>
    </dialog>
  );
}

/** Import JSON Lines or Markdown files, one request a file; a refused file's lines are listed in words. */
function ImportArticles({ reload }: { reload: () => Promise<unknown> }) {
  const { store, t } = useApp();
  const [files, setFiles] = useState<File[]>([]);
  const [outcomes, setOutcomes] = useState<FileOutcome[]>([]);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const results: FileOutcome[] = [];
    for (const file of files) {
      const type = importContentType(file.name);
      if (!type) {
        results.push({ name: file.name, error: t("kb.importType") });
        continue;
      }
      try {
        results.push({ name: file.name, report: await store.api.importArticles(await file.text(), type) });
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        const lines = error instanceof ApiError ? importProblems(error.body) : [];
        results.push({ name: file.name, error: detail, lines });
      }
    }
    setOutcomes(results);
    setBusy(false);
    await reload();
  };
  return (
    <form class="card form kb-import" onSubmit={(e) => void submit(e)} aria-labelledby="kb-import-title">
      <h2 id="kb-import-title">{t("kb.import")}</h2>
      <p class="muted small">{t("kb.importHelp")}</p>
      <FilePick
        label={t("kb.importFiles")}
        chosen={files.map((f) => f.name)}
        accept=".jsonl,.ndjson,.md,.markdown"
        required
        onChange={(input) => setFiles([...(input.files ?? [])])}
      />
      <button class="btn" type="submit" disabled={busy}>
        {t("kb.importButton")}
      </button>
      {outcomes.length > 0 && (
        <ul class="plain kb-import-results" aria-label={t("kb.importResults")}>
          {outcomes.map((o) => (
            <li key={o.name} class={o.error ? "error" : "ok"}>
              <span role={o.error ? "alert" : "status"}>
                {o.report
                  ? t("kb.imported", {
                      file: o.name,
                      created: o.report.created.length,
                      updated: o.report.updated.length,
                      unchanged: o.report.unchanged.length,
                    })
                  : t("kb.importRefused", { file: o.name, detail: o.error ?? "" })}
              </span>
              {o.lines && o.lines.length > 0 && (
                <ul>
                  {o.lines.map((l, i) => (
                    <li key={i}>
                      {l.line === null
                        ? l.msg
                        : l.id
                          ? t("kb.lineProblemId", { line: l.line, id: l.id, problem: l.msg })
                          : t("kb.lineProblem", { line: l.line, problem: l.msg })}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
