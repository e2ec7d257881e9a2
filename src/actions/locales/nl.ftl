# Warden's member-facing texts, Dutch. Variables: { $group } group title, { $case } case reference.
warning-takeover =
    ⚠️ <b>Deze groep is overgenomen door de politie.</b>

    De handel in illegaal vuurwerk en drugs is strafbaar. Berichten, namen en deelnames in deze groep zijn vastgelegd en kunnen worden gebruikt in een strafrechtelijk onderzoek (referentie { $case }).

    Stop met handelen. Meer informatie: politie.nl
warning-trade =
    ⚠️ Handel is in deze groep niet toegestaan. Deze groep staat onder toezicht van de politie; aanbiedingen worden vastgelegd en verwijderd.
warning-freeze =
    🔒 Deze groep is bevroren door de politie. Er kunnen geen berichten meer worden geplaatst.
warning-release =
    De politie heeft deze groep vrijgegeven. Alles wat hier is gedeeld, blijft vastgelegd.
lockdown-title = Deze groep is overgenomen door de politie
lockdown-description = Deze groep staat onder controle van de politie (referentie { $case }). Handel in illegaal vuurwerk en drugs is strafbaar.
