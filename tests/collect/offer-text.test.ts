/**
 * What an offer is judged by (src/collect/offer-text.ts): the message's own
 * words and what a member sees besides them, one line each, and nothing a
 * member does not see.
 */
import type { Message } from "grammy/types";
import { describe, expect, it } from "vitest";
import { minimiseMessage } from "../../src/collect/minimise.ts";
import { offerText } from "../../src/collect/offer-text.ts";

const base = {
  message_id: 7,
  date: 1_800_000_000,
  chat: { id: -1001, type: "supergroup", title: "Vuurwerk Deals NL" },
  from: { id: 42, is_bot: false, first_name: "Bob" },
};

function message(fields: Record<string, unknown>): Message {
  return { ...base, ...fields } as unknown as Message;
}

const SHOP = "https://cobra-shop.nl/prijslijst";

describe("the text an offer is judged by", () => {
  it("is the text, a caption, or a poll's question and options", () => {
    expect(offerText(message({ text: "cobra 6 te koop" }))).toBe("cobra 6 te koop");
    expect(
      offerText(
        message({
          photo: [{ file_id: "p", file_unique_id: "u", width: 1, height: 1 }],
          caption: "50 euro",
        }),
      ),
    ).toBe("50 euro");
    expect(
      offerText(
        message({
          poll: {
            id: "1",
            question: "wie wil cobra's?",
            options: [
              { text: "ik", voter_count: 0 },
              { text: "nee", voter_count: 0 },
            ],
          },
        }),
      ),
    ).toBe("wie wil cobra's?\nik\nnee");
    expect(offerText(message({ sticker: { file_id: "s" } }))).toBeUndefined();
  });

  it("adds the address behind a text link and a preview's address, each once", () => {
    const text = "klik hier";
    const linked = message({
      text,
      entities: [{ type: "text_link", offset: 0, length: 9, url: SHOP }],
      link_preview_options: { url: SHOP },
    });
    expect(offerText(linked)).toBe(`klik hier\n${SHOP}`);
    // A link written out is in the text already; a preview of another address is added.
    const written = message({
      text: `kijk ${SHOP}`,
      entities: [{ type: "url", offset: 5, length: SHOP.length }],
      link_preview_options: { url: "https://t.me/cobra_shop" },
    });
    expect(offerText(written)).toBe(`kijk ${SHOP}\nhttps://t.me/cobra_shop`);
    // Captions carry their links in caption_entities.
    const captioned = message({
      caption: "prijzen",
      caption_entities: [{ type: "text_link", offset: 0, length: 7, url: SHOP }],
      photo: [],
    });
    expect(offerText(captioned)).toBe(`prijzen\n${SHOP}`);
  });

  it("adds the name of the channel or chat a forward comes from, but no person's name", () => {
    const date = base.date - 60;
    const channel = {
      type: "channel",
      chat: { id: -1002, type: "channel", title: "Cobra Verkoop NL", username: "cobra_verkoop" },
      message_id: 3,
      date,
    };
    expect(offerText(message({ text: "kijk even", forward_origin: channel }))).toBe(
      "kijk even\nCobra Verkoop NL\ncobra_verkoop",
    );
    const chat = {
      type: "chat",
      sender_chat: { id: -1003, type: "supergroup", title: "Knallers Twee" },
      date,
    };
    expect(offerText(message({ text: "kijk even", forward_origin: chat }))).toBe(
      "kijk even\nKnallers Twee",
    );
    const user = {
      type: "user",
      sender_user: { id: 9, is_bot: false, first_name: "Cobra", last_name: "Verkoop" },
      date,
    };
    expect(offerText(message({ text: "kijk even", forward_origin: user }))).toBe("kijk even");
    const hidden = { type: "hidden_user", sender_user_name: "Cobra Verkoop", date };
    expect(offerText(message({ text: "kijk even", forward_origin: hidden }))).toBe("kijk even");
  });

  it("adds the inline bot's username, without @, so it does not read as a contact handle", () => {
    const viaBot = { id: 77, is_bot: true, first_name: "Shop", username: "cobra_verkoop_bot" };
    expect(offerText(message({ text: "kijk even", via_bot: viaBot }))).toBe(
      "kijk even\ncobra_verkoop_bot",
    );
  });

  it("is text for minimisation: a case that keeps no text keeps no link or preview address either", () => {
    const linked = message({
      text: "klik hier",
      entities: [{ type: "text_link", offset: 0, length: 9, url: SHOP }],
      link_preview_options: { url: SHOP },
      via_bot: { id: 77, is_bot: true, first_name: "Shop", username: "cobra_verkoop_bot" },
    });
    const kept = minimiseMessage(linked, new Set(["media", "forwards"]));
    expect(JSON.stringify(kept)).not.toContain("cobra-shop");
    // Who sent it, and through which bot, is always kept.
    expect(kept).toMatchObject({ from: { id: 42 }, via_bot: { id: 77 } });
    expect(minimiseMessage(linked, new Set(["text"]))).toMatchObject({
      link_preview_options: { url: SHOP },
    });
  });
});
