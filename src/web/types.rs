//! TypeScript declarations for publishers, emitted by wasm-bindgen into `meterwall_wasm.d.ts`.
//!
//! The exports take and return `any` at the wasm boundary (config and decisions cross as plain
//! JS objects), so the shapes publishers write and read are declared here by hand, from the
//! README's Configuration table, "The wall" (copy names) and "Events and API".
//! `tests/types.rs` compiles publisher code against them with `tsc --strict`, and checks that
//! wrong configs, calls and event reads are rejected.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The names of the prompt's strings, each replaceable with `copy: { name: "text" }`. */
export type MeterwallText =
    | "registerHeading"
    | "registerLead"
    | "unlockHeading"
    | "unlockLead"
    | "unlockButtonOne"
    | "unlockButtonOther"
    | "subscribeHeading"
    | "subscribeLead"
    | "subscribeCta"
    | "emailLabel"
    | "newsletterLabel"
    | "submit"
    | "sending"
    | "sendFailed"
    | "offline"
    | "emailEmpty"
    | "emailTooLong"
    | "emailLocalTooLong"
    | "emailInvalid"
    | "subscribeBefore"
    | "subscribeLink"
    | "subscribeAfter"
    | "loginBefore"
    | "loginLink"
    | "loginAfter"
    | "benefitsHeading"
    | "benefits"
    | "periodMonth"
    | "periodWeek"
    | "periodDay"
    | "regionLabel"
    | "premiumLead"
    | "signupRefused";

/**
 * meterwall's configuration. Every key is optional; layers (the JSON block, the script tag's
 * `data-*` attributes, the article element's attributes, queued `["config", {…}]` commands and
 * `mount(config)`) are merged key by key, later ones winning; `null` means "not given". Numbers may
 * be given as strings, as data attributes give them.
 */
export interface MeterwallConfig {
    /** Free articles a period for anonymous readers, 0–100. Default `3`. */
    limit?: number | `${number}` | null;
    /** How long an allowance lasts: a calendar `month`, ISO `week` or `day` in `timeZone`, `lifetime`, or `rolling:N` (each view returns after N×24 hours). Default `"month"`. */
    period?: "month" | "week" | "day" | "lifetime" | `rolling:${number}` | null;
    /** The IANA time zone calendar periods follow, such as `"Europe/Paris"`. Default `"UTC"`. */
    timeZone?: string | null;
    /** Registered readers' allowance. */
    registered?: {
        /** Articles more a period once registered, 0–100. Default `3`. */
        limit?: number | `${number}`;
        /** `auto`: counted as opened; `choose`: spent on a click of "Unlock this article". Default `"auto"`. */
        mode?: "auto" | "choose";
    } | null;
    /** Up to 4 sections with their own allowance, `{ "name": limit }`, in place of `limit`. Default none. */
    sections?: Record<string, number> | null;
    /** Query parameters that distinguish articles: a list, or comma-separated. Default none. */
    keepParams?: string[] | string | null;
    /** The CSS selector of the element holding the article text. Default `"article"`. */
    selector?: string | null;
    /** Block elements kept above the wall, 0–50, or a share of them such as `"25%"`. Default `2`. */
    teaser?: number | `${number}%` | null;
    /** Where the email is POSTed: an https URL or a same-origin `/path`. Default `"/api/signup"`. */
    endpoint?: string | null;
    /** The "Subscribe now" link: an https URL or a same-origin `/path`. Default `"/subscribe"`. */
    subscribeUrl?: string | null;
    /** The "Log in here" link: an https URL or a same-origin `/path`. Default `"/login"`. */
    loginUrl?: string | null;
    /** The publisher knows this reader subscribes: never walled, never counted. Default `false`. */
    subscriber?: boolean | null;
    /** This page's article id (usually the article element's `data-meterwall-id`). Default none. */
    articleId?: string | null;
    /** `metered` counts; `free` never counts and is never walled; `premium` walls everyone but subscribers. Default `"metered"`. */
    pageType?: "metered" | "free" | "premium" | null;
    /** This page's section (see `sections`). Default none. */
    section?: string | null;
    /** What a failure (bad config, no article element) does to the article. Default `"open"`. */
    onError?: "open" | "closed" | null;
    /** What a reader with localStorage blocked sees. Default `"open"`. */
    onStorageUnavailable?: "open" | "closed" | null;
    /** A CSS selector of elements inside the article that are never removed. Default `"[data-meterwall-keep]"`. */
    keep?: string | null;
    /** The prompt's language as a BCP 47 tag (built in: `en`, `fr`, `de`, `es`). Default the page's `<html lang>`. */
    locale?: string | null;
    /** Replacements for any built-in string, always rendered as text. Default none. */
    copy?: Partial<Record<MeterwallText, string>> | null;
    /** A stylesheet loaded inside the prompt's shadow root: an https URL or a same-origin `/path`. Default none. */
    stylesheet?: string | null;
    /** How long one signup attempt may take, 100–60000 ms. Default `8000`. */
    timeoutMs?: number | null;
    /** Signup attempts on network errors, 5xx and 429, 1–10. Default `4`. */
    maxAttempts?: number | null;
    /** The first retry's backoff ceiling, 0–30000 ms, doubled each time. Default `1000`. */
    retryDelayMs?: number | null;
    /** Enables the `?meterwall=` preview parameters on this page. Default `false`. */
    preview?: boolean | null;
    /** Also push meterwall's events to `window.dataLayer`. Default `false`. */
    dataLayer?: boolean | null;
    /** A subscriber entitlement: a compact JWS signed with ES256, verified with `publicKey`. Default none. */
    token?: string | null;
    /** The publisher's P-256 public key (a JWK) that verifies `token`, or 1 to 4 of them (a list or a JWK Set) while the key changes. Default none. */
    publicKey?: JsonWebKey | JsonWebKey[] | { keys: JsonWebKey[] } | string | null;
}

/** A decision and the rule that made it, as `mount()` returns and `why()` repeats. */
export interface MeterwallDecision {
    /** The wall shown, or `null`: the article is readable. */
    wall: "register" | "unlock" | "subscribe" | null;
    /** The rule that decided. */
    reason:
        | "subscriber"
        | "freePage"
        | "premiumPage"
        | "alreadyOpened"
        | "counted"
        | "mayUnlock"
        | "allowanceSpent"
        | "preview";
    /** Who the meter takes the reader for. */
    tier: "anonymous" | "registered" | "subscriber";
    /** Whether this view was counted against the allowance. */
    counted: boolean;
    /** Articles used of the current allowance. */
    used: number;
    /** The current allowance. */
    limit: number;
    /** Articles left in the current allowance. */
    remaining: number;
}

/** The `detail` of the events about a decision: the decision, versioned. */
export interface MeterwallDecisionDetail extends MeterwallDecision {
    version: 1;
    /** The wall's name when `wall` is not `null` (the same value); absent when the article is readable. */
    wallType?: "register" | "unlock" | "subscribe";
}

/** The `detail` of `meterwall:before-lock` and `meterwall:lock`: a decision with a wall. */
export interface MeterwallLockDetail extends MeterwallDecisionDetail {
    wall: "register" | "unlock" | "subscribe";
    wallType: "register" | "unlock" | "subscribe";
}

/** The `detail` of `meterwall:error`. */
export interface MeterwallErrorDetail {
    version: 1;
    /** What failed, and how to fix it. */
    message: string;
}

/** The `detail` of `meterwall:ready`. */
export interface MeterwallReadyDetail {
    version: 1;
}

/** Each `meterwall:<name>` event's `detail`, by name. No event ever carries the email. */
export interface MeterwallEventDetails {
    /** The loader has loaded the widget and run the queue. */
    ready: MeterwallReadyDetail;
    /** Every decision (each page view, and each change by the API). */
    view: MeterwallDecisionDetail;
    /** Before a wall is shown; cancellable with `preventDefault()`. */
    "before-lock": MeterwallLockDetail;
    /** A wall is shown. */
    lock: MeterwallLockDetail;
    /** The prompt entered the viewport, once. */
    seen: MeterwallDecisionDetail;
    /** The reader registered (here or in another tab). */
    register: MeterwallDecisionDetail;
    /** A registered reader unlocked this article. */
    unlock: MeterwallDecisionDetail;
    /** The prompt's "Subscribe" link was clicked; `null` if meterwall has stopped after an internal error. */
    "subscribe-click": MeterwallDecisionDetail | null;
    /** The prompt's "Log in" link was clicked; `null` if meterwall has stopped after an internal error. */
    "login-click": MeterwallDecisionDetail | null;
    /** Something failed. */
    error: MeterwallErrorDetail;
}

/** The events meterwall fires on `document`, as `meterwall:<name>`. */
export type MeterwallEventName = keyof MeterwallEventDetails;

/** The `detail` of `meterwall:<N>`; without `N`, of any of them (tell them apart before reading). */
export type MeterwallEventDetail<N extends MeterwallEventName = MeterwallEventName> =
    MeterwallEventDetails[N];

/** What meterwall keeps about this reader: no URL, no email, nothing personal. */
export interface MeterwallState {
    version: 1;
    /** The kind of period the record counts in (`"month"`, `"week"`, `"day"`, `"rolling"`, `"lifetime"`), or `null` for a fresh record. */
    period: string | null;
    /** Articles opened in the current period. */
    articles: number;
    /** When the reader registered (ms since the epoch), or `null`. */
    registeredAt: number | null;
    /** The latest time the meter has seen (ms since the epoch). */
    latestSeen: number;
}

/** A queued command: a function given the API, or `["command", ...args]`. */
export type MeterwallCommand = ((api: MeterwallApi) => void) | [string, ...unknown[]];

/** `window.meterwall` before the widget loads: commands run in order once it is ready. */
export type MeterwallQueue = MeterwallCommand[];

/** `window.meterwall` once the widget has loaded. */
export interface MeterwallApi {
    version: 1;
    /**
     * Decides again (a single-page app's next article), with `config` as the last layer. The
     * decision, or a promise of it when it has to wait (a kept subscriber token being checked, a
     * prerendered page not yet shown), which gives `null` if another mount replaced this one
     * first.
     *
     * Throws when refused (called from a `meterwall:before-lock` or `meterwall:error` listener)
     * and when it cannot decide (an invalid config, no article element); the cause is also logged
     * and fired as `meterwall:error`.
     */
    mount(config?: MeterwallConfig | MeterwallConfig[]): MeterwallDecision | Promise<MeterwallDecision | null> | null;
    /** The last decision and its reasons, or `null` before `mount`. */
    why(): MeterwallDecision | null;
    /** What the meter keeps about this reader, or `null` before `mount`. */
    state(): MeterwallState | null;
    /** Forgets this reader's meter. */
    reset(): void;
    /** Tells the widget this reader subscribes (or no longer does), and decides again. */
    setSubscriber(on: boolean): MeterwallDecision | null;
    /** Verifies a subscriber entitlement (or drops it with `null`), then decides again. */
    setToken(token: string | null): Promise<MeterwallDecision | null>;
    /** Calls `fn` with the detail of every `meterwall:<name>` event. */
    on<N extends MeterwallEventName>(name: N, fn: (detail: MeterwallEventDetail<N>) => void): void;
    /** Runs each command now, in order, as the queue takes them; returns the last one's answer. */
    push(...commands: MeterwallCommand[]): unknown;
    /** Adds a config layer for later mounts. */
    config(layer: MeterwallConfig | MeterwallConfig[]): void;
}

declare global {
    interface Window {
        /** The command queue before the widget loads, the API after. */
        meterwall: MeterwallApi | MeterwallQueue;
        /** Google Tag Manager's data layer, which meterwall pushes to with `dataLayer: true`. */
        dataLayer?: unknown[];
    }
    interface DocumentEventMap {
        "meterwall:ready": CustomEvent<MeterwallEventDetail<"ready">>;
        "meterwall:view": CustomEvent<MeterwallEventDetail<"view">>;
        "meterwall:lock": CustomEvent<MeterwallEventDetail<"lock">>;
        "meterwall:seen": CustomEvent<MeterwallEventDetail<"seen">>;
        "meterwall:register": CustomEvent<MeterwallEventDetail<"register">>;
        "meterwall:unlock": CustomEvent<MeterwallEventDetail<"unlock">>;
        "meterwall:subscribe-click": CustomEvent<MeterwallEventDetail<"subscribe-click">>;
        "meterwall:login-click": CustomEvent<MeterwallEventDetail<"login-click">>;
        "meterwall:error": CustomEvent<MeterwallEventDetail<"error">>;
        "meterwall:before-lock": CustomEvent<MeterwallEventDetail<"before-lock">>;
    }
}
"#;
