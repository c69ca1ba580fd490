// The DM's players: who joined, the invite link to share, each player's characters, removal.
import { api } from "./api.js";
import { $, el, labelled } from "./dom.js";
import { say, showError } from "./page.js";

export function membersSection(campaign, characters) {
  const section = el("section", { id: "members", "aria-labelledby": "members-heading" },
    el("h2", { id: "members-heading" }, "Players"), el("p", {}, "Loading the players…"));
  fill(campaign, section, characters);
  return section;
}

// `doing` in words, and what a failure could not do.
async function act(doing, work) {
  try {
    await work();
  } catch (error) {
    showError(error, doing);
  }
}

function fill(campaign, section, characters) {
  const path = `/campaigns/${campaign.id}`;
  return act("read the players", async () => {
    const players = (await api("GET", `${path}/members`)).members.filter((m) => m.role === "player");
    if (!section.isConnected) return;
    const link = el("p", { id: "invite-link" });
    const invite = el("button", { type: "button", id: "invite" }, "Invite a player");
    // One invite at a time: each replaces the last, so only the newest link may be shown.
    invite.addEventListener("click", () => act("make an invite", async () => {
      invite.disabled = true;
      const made = await api("POST", `${path}/invite`).finally(() => (invite.disabled = false));
      link.replaceChildren(...labelled("invite-url", "Share this link (a new one replaces it):",
        { readonly: true, value: `${location.origin}/#/join/${made.campaign_id}/${made.code}` }));
      $("#invite-url").select();
    }));
    const rows = players.map((m, i) => {
      const member = `${path}/members/${encodeURIComponent(m.sub)}`;
      const form = el("form", { class: "assign", "data-sub": m.sub },
        el("fieldset", {}, el("legend", {}, `Characters of ${m.name || "a player"}`),
          characters().map((c) => el("label", { class: "check" },
            el("input", { type: "checkbox", name: "character", value: c.id, checked: m.characters.includes(c.id) }),
            ` ${c.character_name}`))),
        el("button", { type: "submit" }, "Assign"),
        el("button", { type: "button", class: "remove" }, `Remove ${m.name || "this player"}`));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const chosen = [...form.querySelectorAll("input:checked")].map((input) => input.value);
        act("assign the characters", async () => {
          await api("PUT", member, { characters: chosen });
          say(`${m.name || "The player"} now plays ${chosen.length} character(s).`);
        });
      });
      $(".remove", form).addEventListener("click", () => act("remove the player", async () => {
        await api("DELETE", member);
        say(`${m.name || "The player"} left the campaign.`);
        fill(campaign, section, characters);
      }));
      return el("li", { "data-player": i }, form);
    });
    section.replaceChildren(el("h2", { id: "members-heading" }, "Players"),
      rows.length ? el("ul", { id: "players" }, rows) : el("p", {}, "No players yet."), invite, link);
  });
}
