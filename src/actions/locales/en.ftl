# Warden's member-facing texts, English. Variables: { $group } group title, { $case } case reference.
warning-takeover =
    ⚠️ <b>This group is now under police control.</b>

    Trading illegal fireworks and drugs is a criminal offence. Messages, names and memberships in this group have been recorded and may be used in a criminal investigation (reference { $case }).

    Stop trading. More information: politie.nl
warning-trade =
    ⚠️ Trading is not allowed in this group. It is monitored by the police; offers are recorded and removed.
warning-freeze =
    🔒 This group has been frozen by the police. No more messages can be posted.
warning-release =
    The police have released this group. Everything shared here remains on record.
lockdown-title = This group is now under police control
lockdown-description = This group is under police control (reference { $case }). Trading illegal fireworks and drugs is a criminal offence.
