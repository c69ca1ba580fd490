// The campaigns: the list (with your role when people sign in) and a new campaign.
import { $, el, labelled } from "./dom.js";
import { api } from "./api.js";
import * as signin from "./signin.js";
import { all, col, onSubmit, say, state } from "./page.js";

export const DEFAULT_CAMPAIGN = "00000000-0000-0000-0000-000000000000";
const RULESETS = [["5e-2024", "5e-2024 (SRD 5.2.1)"], ["5e-2014", "5e-2014 (SRD 5.1)"]];

export const loadCampaigns = async () => (state.campaigns = await all("/campaigns?limit=100", "campaigns"));

export async function showCampaigns() {
  const view = { kind: "campaigns" };
  state.view = view;
  const people = signin.required();
  // The default campaign is the operators' (a person has none): listed once it has characters.
  const [campaigns, used] = await Promise.all([loadCampaigns(),
    people ? { characters: [] } : api("GET", `/campaigns/${DEFAULT_CAMPAIGN}/characters?limit=1`)]);
  if (state.view !== view) return;
  const rows = campaigns.filter((c) => c.id !== DEFAULT_CAMPAIGN || used.characters.length).map((c) =>
    el("tr", { "data-campaign": c.id },
      el("th", { scope: "row" }, el("a", { href: `#/campaigns/${c.id}`, class: "name" }, c.name)),
      el("td", { class: "dm" }, c.dm_name || "not named"),
      el("td", { class: "ruleset" }, c.ruleset),
      people ? el("td", { class: "role" }, c.role === "dm" ? "Dungeon Master" : "Player") : null));
  // A route again (the same list) keeps what the DM is typing.
  const typing = $("#new-campaign");
  const draft = typing && { name: typing.name.value, dm: typing.dm.value, ruleset: typing.ruleset.value };
  $("#main").replaceChildren(el("div", { class: "grid" },
    el("section", { "aria-labelledby": "campaigns-heading" },
      el("h2", { id: "campaigns-heading", tabindex: "-1" }, "Campaigns"),
      el("table", { id: "campaigns" },
        el("caption", {}, "Open one to see its party and its feed"),
        el("thead", {}, el("tr", {}, col("Campaign"), col("Dungeon Master"), col("Rules"), people ? col("You are") : null)),
        el("tbody", {}, rows.length ? rows
          : el("tr", {}, el("td", { colspan: 4 }, "No campaigns yet: create one, or open an invite link."))))),
    el("section", { "aria-labelledby": "new-campaign-heading" },
      el("h2", { id: "new-campaign-heading" }, "Create a campaign"),
      campaignForm(draft))));
  $("#campaigns-heading").focus();
}

function campaignForm(draft) {
  const form = el("form", { id: "new-campaign", "aria-labelledby": "new-campaign-heading" },
    labelled("new-campaign-name", "Campaign name", { name: "name", required: true, maxlength: 100, autocomplete: "off", value: draft?.name }),
    labelled("new-campaign-dm", "Dungeon Master's name", { name: "dm", required: true, maxlength: 100, value: draft?.dm }),
    labelled("new-campaign-ruleset", "Rules", { tag: "select", name: "ruleset",
      options: RULESETS.map(([value, words]) => el("option", { value, selected: value === draft?.ruleset }, words)) }),
    el("button", { type: "submit" }, "Create the campaign"));
  onSubmit(form, "create the campaign", async () => {
    const created = await api("POST", "/campaigns", { name: form.name.value, dm_name: form.dm.value, ruleset: form.ruleset.value });
    say(`Campaign ${created.name} created.`);
    location.hash = `#/campaigns/${created.id}`;
  });
  return form;
}
