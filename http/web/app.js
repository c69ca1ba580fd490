// The Dungeon Master's screen: ES modules on the documented HTTP API, no build step. Here: the
// routes (#/, #/campaigns/<cid>, #/campaigns/<cid>/characters/<id>), sign-in on the page, and
// the open campaign's feed, which keeps its party and characters current.
import * as signin from "./signin.js";
import { $, el } from "./dom.js";
import { api, call, whenSignInEnds } from "./api.js";
import { DEFAULT_CAMPAIGN, showCampaigns } from "./campaigns.js";
import { loadParty, renderParty } from "./party.js";
import { refreshCharacter, showCharacter } from "./character.js";
import { clearError, remember, renderFeed, say, showError, state } from "./page.js";

const ZERO = "00000000000000000000";
const UUID = "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})";
const TITLE = document.title;
const FEED_SHOWN = 20;
const POLL_MS = 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function button(id, words, click) {
  const b = el("button", { type: "button", id }, words);
  b.addEventListener("click", click);
  return b;
}

function accountBar() {
  const bar = $("#account");
  if (!signin.required()) return bar.replaceChildren();
  if (!signin.signedIn()) return bar.replaceChildren(button("sign-in", "Sign in", signin.signIn));
  bar.replaceChildren(el("span", { id: "signed-in-as" }, `Signed in as ${signin.displayName() ?? "you"}`), " ",
    button("sign-out", "Sign out", signin.signOut));
}

function showSignIn(why) {
  closeCampaign();
  state.view = { kind: "sign-in" };
  $("#main").replaceChildren(el("section", { "aria-labelledby": "sign-in-heading" },
    el("h2", { id: "sign-in-heading", tabindex: "-1" }, "Sign in"), el("p", {}, why),
    button("sign-in-main", "Sign in", signin.signIn)));
  accountBar();
}

// Opens a campaign (unless it is open) and follows its feed until another is opened.
async function openCampaign(id) {
  if (state.campaign?.id === id) return;
  closeCampaign();
  const campaign = { id, stop: new AbortController(), failing: false, party: new Map(), feed: [], head: null };
  state.campaign = campaign;
  try {
    Object.assign(campaign, await api("GET", `/campaigns/${id}`), { id });
  } catch (error) {
    if (state.campaign === campaign) closeCampaign();
    throw error;
  }
  try {
    await readLatest(campaign);
  } catch (error) {
    campaign.failing = true;
    showError(error, "read the feed");
  }
  if (state.campaign === campaign) followFeed(campaign);
}

function closeCampaign() {
  state.campaign?.stop.abort();
  state.campaign = null;
}

async function readLatest(campaign) {
  const page = await api("GET", `/campaigns/${campaign.id}/events?direction=backward&limit=${FEED_SHOWN}`, null, campaign.stop.signal);
  campaign.feed = page.events;
  campaign.head = page.events[0]?.position ?? ZERO;
}

// Every second, a read after the last position with the last ETag: 304 (one read of the feed's
// head) while nothing is new, and no Lambda held open for a screen. An unknown position (the
// server started afresh) starts again.
async function followFeed(campaign) {
  const { signal } = campaign.stop;
  while (!signal.aborted) {
    try {
      if (campaign.head === null) {
        campaign.tag = null;
        await readLatest(campaign);
        if (state.campaign === campaign) renderFeed();
      }
      const { response, data } = await call(`/campaigns/${campaign.id}/events?after=${campaign.head}`,
        { signal, headers: campaign.tag ? { "if-none-match": campaign.tag } : {} });
      const events = data?.events ?? [];
      if (events.length) {
        await onFeedEvents(campaign, events);
        campaign.head = data.next;
      }
      // Kept once the events are shown; a page short of the feed's end (no tag) is followed at once.
      const tag = response.status === 304 ? campaign.tag : response.headers.get("etag");
      campaign.tag = tag;
      if (!events.length || tag) await sleep(POLL_MS);
      if (campaign.failing) {
        campaign.failing = false;
        clearError();
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error.code === "invalid_position") campaign.head = null;
      campaign.failing = true;
      showError(error, "follow the feed");
      await sleep(2000);
    }
  }
}

async function onFeedEvents(campaign, events) {
  const touched = [...new Set(events.map((e) => e.id))];
  // Read consistently (the snapshots may lag the feed), all first: a failure applies nothing.
  const characters = await Promise.all(
    touched.map((id) => api("GET", `/characters/${id}?consistent=true`, null, campaign.stop.signal)));
  const known = new Set(campaign.feed.map((e) => e.position));
  campaign.feed = [...events.filter((e) => !known.has(e.position)).reverse(), ...campaign.feed].slice(0, FEED_SHOWN);
  touched.forEach((id, i) => {
    if (characters[i].campaign_id && characters[i].campaign_id !== campaign.id) return campaign.party.delete(id);
    remember(campaign, characters[i], events.findLast((e) => e.id === id));
  });
  if (state.campaign !== campaign) return;
  const view = state.view;
  if (view?.kind === "party") renderParty(true);
  else if (view?.kind === "character" && touched.includes(view.id)) await refreshCharacter(view, false, true);
  else renderFeed();
}

async function route() {
  // Another fragment (the skip link's #main) is a place on the page.
  if (location.hash && !location.hash.startsWith("#/")) return;
  if (signin.required() && !signin.signedIn()) {
    return showSignIn(`Sign in to ${location.hash.startsWith("#/join/") ? "join the campaign you were invited to" : "see your campaigns"}.`);
  }
  accountBar();
  const hash = location.hash;
  const join = hash.match(new RegExp(`^#/join/${UUID}/([0-9a-f]{32})$`));
  const old = hash.match(new RegExp(`^#/characters/${UUID}$`));
  const match = hash.match(new RegExp(`^#/campaigns/${UUID}(?:/characters/${UUID})?$`));
  try {
    if (join) {
      const member = await api("POST", `/campaigns/${join[1]}/members`, { code: join[2], name: signin.displayName() ?? undefined })
        .catch(async (error) => {
          // No hashchange (which clears the error): the campaigns, and why.
          history.replaceState(null, "", "#/");
          await route();
          showError(error, "join the campaign (the invite may have been replaced: ask the DM for a new link)");
        });
      if (!member) return;
      say(member.role === "dm" ? "You are this campaign's DM." : "You joined the campaign as a player.");
      location.replace(`#/campaigns/${join[1].toLowerCase()}`);
    } else if (old) {
      const character = await api("GET", `/characters/${old[1]}?consistent=true`);
      location.replace(`#/campaigns/${character.campaign_id ?? DEFAULT_CAMPAIGN}/characters/${old[1]}`);
    } else if (match) {
      const view = { kind: "opening" };
      state.view = view;
      await openCampaign(match[1].toLowerCase());
      if (state.view !== view) return;
      document.title = `${state.campaign.name} · ${TITLE}`;
      if (match[2]) return await showCharacter(match[2].toLowerCase());
      const party = { kind: "party" };
      state.view = party;
      await loadParty(state.campaign);
      if (state.view !== party) return;
      renderParty();
      $("#party-heading").focus();
    } else {
      closeCampaign();
      document.title = TITLE;
      await showCampaigns();
    }
  } catch (error) {
    showError(error, "load the screen");
    if (error.code === "campaign_not_found") {
      $("#main").replaceChildren(el("p", {}, "No such campaign. ", el("a", { href: "#/" }, "All campaigns")));
    }
  }
}

window.addEventListener("hashchange", () => {
  clearError();
  route();
});

whenSignInEnds(() => showSignIn("Your sign-in has ended: sign in again."));

(async () => {
  try {
    await signin.ready();
  } catch (error) {
    showError(error, "sign in");
  }
  await route();
  document.body.dataset.ready = "true";
})();
