// Publisher code that must compile against the generated meterwall_wasm.d.ts with `tsc --strict`
// (tests/types.rs). It reads like a news site's own scripts: the queue before the loader, configs,
// analytics on events, a single-page app's next article, a subscriber's entitlement.

import type {
    MeterwallApi,
    MeterwallCommand,
    MeterwallConfig,
    MeterwallDecision,
    MeterwallEventDetail,
    MeterwallEventName,
    MeterwallQueue,
    MeterwallState,
    MeterwallText,
} from "../../www/dist/meterwall_wasm";

// Before the loader: the command queue, as the embed snippet sets it up.
window.meterwall = window.meterwall || [];
window.meterwall.push(["config", { limit: 5, period: "week", timeZone: "Europe/Paris" }]);
window.meterwall.push((api) => {
    const decision = api.why();
    if (decision && decision.wall === "register") {
        console.log(`walled after ${decision.used} of ${decision.limit}`);
    }
});
window.meterwall.push(["mount", { articleId: "the-corridor-economy" }]);

// The site's own session, which may hold no token.
declare const sessionToken: string | undefined;

// Every key, as a publisher might write each one.
const publicKey: JsonWebKey = {
    kty: "EC",
    crv: "P-256",
    x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
};
const everyKey: MeterwallConfig = {
    limit: 3,
    period: "month",
    timeZone: "America/New_York",
    registered: { limit: 3, mode: "choose" },
    sections: { opinion: 2, sport: 10 },
    keepParams: ["page", "edition"],
    selector: ".article-body",
    teaser: 2,
    endpoint: "/api/signup",
    subscribeUrl: "https://news.example/subscribe",
    loginUrl: "/login",
    subscriber: false,
    articleId: "the-corridor-economy",
    pageType: "metered",
    section: "opinion",
    onError: "closed",
    onStorageUnavailable: "open",
    keep: ".related, .ad",
    locale: "fr-FR",
    copy: {
        registerHeading: "Continuez à lire gratuitement !",
        submit: "Lire la suite",
        benefits: "Tous les articles\nLa newsletter du matin",
    },
    stylesheet: "/css/meterwall-theme.css",
    timeoutMs: 8000,
    maxAttempts: 4,
    retryDelayMs: 1000,
    preview: true,
    dataLayer: true,
    token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJyZWFkZXIifQ.c2lnbmF0dXJl",
    publicKey,
};

// The other shapes the README allows: numbers as strings (data attributes), rolling periods,
// percentages, comma-separated lists, other enum members.
const asDataAttributes: MeterwallConfig = {
    limit: "3",
    registered: { limit: "10", mode: "auto" },
    period: "rolling:30",
    teaser: "25%",
    keepParams: "page,edition",
};
const premium: MeterwallConfig = { pageType: "premium", period: "lifetime", onError: "open" };
const free: MeterwallConfig = { pageType: "free", period: "day", onStorageUnavailable: "closed" };
const heading: MeterwallText = "subscribeHeading";
const copy: MeterwallConfig["copy"] = { [heading]: "Subscribe to keep reading" };
window.meterwall.push(["config", { ...asDataAttributes, copy }]);

// Events on document, typed by name.
document.addEventListener("meterwall:lock", (e) => {
    const wall: "register" | "unlock" | "subscribe" | null = e.detail.wall;
    const shown = e.detail.wallType ?? wall;
    window.dataLayer?.push({ event: "meterwall_lock", wall: shown, remaining: e.detail.remaining });
});
document.addEventListener("meterwall:error", (e) => {
    console.warn("meterwall:", e.detail.message ?? "unknown error");
});
document.addEventListener("meterwall:view", (e) => {
    if (e.detail.counted && e.detail.tier === "anonymous" && e.detail.remaining === 0) {
        document.body.classList.add("last-free-article");
    }
});
document.addEventListener("meterwall:ready", (e) => {
    if (e.detail.version !== 1) return;
    afterLoad();
});

function afterLoad(): void {
    const mw = window.meterwall;
    if (Array.isArray(mw)) return; // still the queue: the widget did not load
    const api: MeterwallApi = mw;
    if (api.version !== 1) return;

    const decision: MeterwallDecision | null = api.why();
    if (decision?.reason === "allowanceSpent") {
        console.log(`${decision.tier} reader, wall: ${decision.wall}`);
    }
    // An editor's preview (`?meterwall=wall` or `off`) has a reason of its own.
    if (decision?.reason === "preview") console.log("a preview, nothing counted");

    const names = ["register", "unlock", "subscribe-click", "login-click"] as const;
    for (const name of names) {
        api.on(name, (detail: MeterwallEventDetail<typeof name>) => {
            window.dataLayer = window.dataLayer || [];
            window.dataLayer.push({ event: `meterwall_${name}`, used: detail?.used });
        });
    }
    api.on("before-lock", (detail) => console.log(detail.wallType));

    const state: MeterwallState | null = api.state();
    if (state && state.registeredAt !== null && state.period !== null) {
        console.log(`registered ${new Date(state.registeredAt).toISOString()}, ${state.articles} read`);
    }

    // A single-page app's next article.
    const next = api.mount({ ...everyKey, articleId: "the-next-story", section: "sport" });
    void Promise.resolve(next).then((d) => {
        if (d && d.wall === null) console.log("open");
    });
    api.mount();
    api.config(premium);
    api.config(free);
    // Layers as a list; a template's missing values as null; the key as the JWK's JSON text.
    api.mount([{ section: "sport" }, { articleId: "the-next-story" }]);
    api.config([premium, { token: null, section: null }]);
    api.mount({ publicKey: JSON.stringify(publicKey), token: sessionToken ?? null });
    // While the key changes: both keys, as a list or a JWK Set.
    api.mount({ publicKey: [publicKey, publicKey] });
    api.mount({ publicKey: { keys: [publicKey] } });

    // A subscriber's entitlement from the publisher's login.
    api.setToken(everyKey.token ?? null).then((d) => {
        if (d && d.tier === "subscriber") document.body.classList.add("subscriber");
    });
    void api.setToken(null);
    const subscribed = api.setSubscriber(true);
    console.log(subscribed?.reason === "subscriber");

    const commands: MeterwallCommand[] = [["reset"], (a) => a.reset(), ["setSubscriber", false]];
    for (const command of commands) api.push(command);
    api.push(...commands);
    const answer: unknown = api.push(["why"], ["state"]);
    console.log(answer);
    api.reset();
}

// A publisher's typed helper that queues before load and runs at once after.
function withMeterwall(fn: (api: MeterwallApi) => void): void {
    const queue: MeterwallQueue | MeterwallApi = (window.meterwall = window.meterwall || []);
    queue.push(fn);
}
withMeterwall((api) => api.mount({ pageType: "metered" }));
