// Wrong publisher code the generated meterwall_wasm.d.ts must reject (tests/types.rs). Each
// mistake is marked `// @ts-expect-error`, so this file compiles only if tsc finds an error on
// every marked line: a directive with nothing to suppress is itself an error (TS2578).

import type { MeterwallApi, MeterwallConfig, MeterwallDecision } from "../../www/dist/meterwall_wasm";

// @ts-expect-error: "paid" is not a page type (metered, free, premium)
const paid: MeterwallConfig = { pageType: "paid" };

// @ts-expect-error: registered.mode is "auto" or "choose"
const manual: MeterwallConfig = { registered: { mode: "manual" } };

// @ts-expect-error: onError is "open" or "closed"
const maybe: MeterwallConfig = { onError: "maybe" };

// @ts-expect-error: no such period
const fortnight: MeterwallConfig = { period: "fortnight" };

// @ts-expect-error: a rolling period counts days, a number
const rolling: MeterwallConfig = { period: "rolling:month" };

// @ts-expect-error: the teaser is a number or a percentage
const half: MeterwallConfig = { teaser: "half" };

// @ts-expect-error: the limit is a number, not a boolean
const unlimited: MeterwallConfig = { limit: true };

// @ts-expect-error: a misspelt key ("limt" for "limit")
const typo: MeterwallConfig = { limt: 3 };

// @ts-expect-error: no copy string is called "headline"
const headline: MeterwallConfig = { copy: { headline: "Read on" } };

// @ts-expect-error: subscriber is a boolean, not the string data attributes give
const yes: MeterwallConfig = { subscriber: "yes" };

// @ts-expect-error: a section's limit is a number
const sections: MeterwallConfig = { sections: { sport: "ten" } };

declare const api: MeterwallApi;

// @ts-expect-error: why() takes no argument
api.why(1);

// @ts-expect-error: no such event
api.on("locked", () => {});

// @ts-expect-error: each command pushed is checked: a bare name is not a command
api.push(["why"], "why");

// @ts-expect-error: a token is a string (or null to drop it)
void api.setToken(42);

// @ts-expect-error: why() is null before the first mount
const sure: MeterwallDecision = api.why();

document.addEventListener("meterwall:lock", (e) => {
    // @ts-expect-error: "paywall" is not a wall
    if (e.detail.wall === "paywall") console.log("never");
});

export { paid, manual, maybe, fortnight, rolling, half, unlimited, typo, headline, yes, sections, sure };
