// The DM's players: who joined, the invite link to share, each player's characters, removal.
import { api } from "./api.js";
import { $, el } from "./dom.js";

export function membersSection(campaign, { say, showError, characters }) {
  const section = el("section", { id: "members", "aria-labelledby": "members-heading" },
    el("h2", { id: "members-heading" }, "Players"),
    el("p", {}, "Loading the players…"));
  loadMembers(campaign, section, { say, showError, characters });
  return section;
}

async function loadMembers(campaign, section, page) {
  const { say, showError } = page;
  let members;
  try {
    members = (await api("GET", `/campaigns/${campaign.id}/members`)).members;
  } catch (error) {
    showError(error, "read the players");
    return;
  }
  if (!section.isConnected) return;
  const players = members.filter((m) => m.role === "player");
  const invite = el("button", { type: "button", id: "invite" }, "Invite a player");
  const link = el("p", { id: "invite-link" });
  invite.addEventListener("click", async () => {
    invite.disabled = true;
    try {
      const made = await api("POST", `/campaigns/${campaign.id}/invite`);
      const url = `${location.origin}/#/join/${made.campaign_id}/${made.code}`;
      link.replaceChildren(
        el("label", { for: "invite-url" }, "Share this link (a new one replaces it):"),
        el("input", { id: "invite-url", readonly: true, value: url }),
      );
      $("#invite-url").select();
    } catch (error) {
      showError(error, "make an invite");
    }
    invite.disabled = false;
  });
  const characters = page.characters();
  const rows = players.map((m, i) => {
    const form = el("form", { class: "assign", "data-sub": m.sub },
      el("fieldset", {}, el("legend", {}, `Characters of ${m.name || "a player"}`),
        characters.map((c) => el("label", { class: "check" },
          el("input", { type: "checkbox", name: "character", value: c.id, checked: m.characters.includes(c.id) }),
          ` ${c.character_name}`))),
      el("button", { type: "submit" }, "Assign"),
      el("button", { type: "button", class: "remove" }, `Remove ${m.name || "this player"}`));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = [...form.querySelectorAll("input[name=character]:checked")].map((i) => i.value);
      try {
        await api("PUT", `/campaigns/${campaign.id}/members/${encodeURIComponent(m.sub)}`, { characters: chosen });
        say(`${m.name || "The player"} now plays ${chosen.length} character(s).`);
      } catch (error) {
        showError(error, "assign the characters");
      }
    });
    $(".remove", form).addEventListener("click", async () => {
      try {
        await api("DELETE", `/campaigns/${campaign.id}/members/${encodeURIComponent(m.sub)}`);
        say(`${m.name || "The player"} left the campaign.`);
        loadMembers(campaign, section, page);
      } catch (error) {
        showError(error, "remove the player");
      }
    });
    return el("li", { "data-player": i }, form);
  });
  section.replaceChildren(
    el("h2", { id: "members-heading" }, "Players"),
    players.length ? el("ul", { id: "players" }, rows) : el("p", {}, "No players yet."),
    invite,
    link,
  );
}
