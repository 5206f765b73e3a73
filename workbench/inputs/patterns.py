"""The named patterns of the injection model: ``(name, weight, triggers, regex)``.

Weights are log-odds added to ``injection.BIAS`` (-3.0): 3.0 alone reaches a score of 0.5, 4.0 gives 0.73;
1.5–2.5 need a second signal. Set by hand on the train split of deepset/prompt-injections only.

Regexes are written in lower case and run on the lower-cased text, except ``CASED`` ones, which run on the text
as written. ``triggers`` gate each regex, so ordinary text costs one word split rather than ~20 regex scans. A
trigger word opens its regex when a word (``\\w+``) of the lower-cased text is that word (``stem$``, or any
trigger under 4 characters) or starts with it (a trigger of 4 characters or more); every alternative of the
regex must contain such a word. Whole words where a regex wants whole words: a 4-character prefix such as
``char`` opened the fiction regex on every "charge" and "chargeback". Also: ``=literal`` substrings, named
cheap gates ``?caps`` (two upper-case words in a row) and ``?letters`` (four distinct one-letter words), ``*``
(always run) and ``CASED``. Several entries may share a name: a name fires (and adds its weight) once. A test checks that gating
never changes a score.
"""
from __future__ import annotations

_DROP_EN = r"(?:ignore|disregard|forget|drop|skip|abandon|omit|overlook|bypass|override|discard|neglect|erase)"
_WHAT_EN = (r"(?:instructions?|tasks?|orders?|assignments?|rules?|directions?|directives?|guidelines?|commands?|"
            r"prompts?|constraints?|information|thoughts|programming)")
_DROP_DE = r"(?:vergiss|vergessen\s+sie|ignorier\w*|missacht\w*|überspring\w*)"
_WHAT_DE = r"(?:anweisungen|aufgaben|aufträge|befehle|instruktionen|informationen|angaben|regeln|vorgaben)"
_GAP = r"(?:\W+\w+){0,5}?\W+"

PATTERNS: tuple[tuple[str, float, str, str], ...] = (
    # "ignore / forget the previous instructions", by language
    ("ignore_previous_instructions", 4.0, "ignore$ disregard$ forget$ drop$ skip$ abandon$ omit$ overlook$ bypass$ override$ discard$ neglect$ erase$",
     (rf"\b{_DROP_EN}\b{_GAP}{_WHAT_EN}\b"
     r"|\b(?:ignore|disregard|forget)\s+(?:about\s+)?(?:everything|all\b|anything|(?:the\s+)?above\b|what\s+(?:you|i)\b)"
     r"|\b(?:forget|ignore)\b[^.?!\n]{0,40}\b(?:before|above|previous|prior|earlier|preceding)\b")),
    ("ignore_previous_instructions", 4.0, "verg igno miss über",
     (rf"\b{_DROP_DE}\b{_GAP}{_WHAT_DE}\b|\bvergiss\s+alles\b"
     r"|\b(?:vergiss|ignorier\w*)\b[^.?!\n]{0,40}\b(?:davor|zuvor|vorher\w*|bisherig\w*|obig\w*|oben)\b")),
    ("ignore_previous_instructions", 4.0, "abwe ausf anwe",
     r"\babweichend\s+(?:zu|von)\s+(?:den\s+)?vorherigen\b|\b(?:ausführungen|anweisungen)\s+ignorieren\b"),
    ("ignore_previous_instructions", 4.0, "olvid ignor descart oubli dimentica$ esqueca$ esqueça$",
     (r"\b(?:olvid\w*|ignor[ae]\w*|descart\w*)\b(?:\W+\w+){0,4}?\W+(?:instrucciones|tareas|órdenes|reglas|todo)\b"
     r"|\b(?:oubli\w*|ignor\w*)\b(?:\W+\w+){0,3}?\W+(?:instructions|consignes|tâches|règles|tout)\b"
     r"|\b(?:dimentica|ignora)\b(?:\W+\w+){0,3}?\W+istruzioni\b|\b(?:esque[cç]a|ignore)\b(?:\W+\w+){0,3}?\W+instruções")),
    ("ignore_previous_instructions", 4.0, "zabo забу игно",
     r"\bzaboravi\s+sve\b|(?:забуд\w*|игнориру\w*)\s+(?:все\s+)?(?:инструкци\w*|указани\w*|предыдущ\w*)"),
    # "new instructions follow", "that is enough", "all previous information is irrelevant"
    ("instruction_reset", 3.5, "information$ informationen$",
     r"\b(?:bisherigen|vorherigen|previous|preceding)\s+informationen?\b"),
    ("instruction_reset", 3.5, "folgen$ task$ tasks$ instruction$ instructions$ start$ vorne$ neu enough$ done$ genügt$ erledigt$",
     (r"\bnun\s+folgen\s+(?:neue|weitere)\b|\b(?:new|further)\s+(?:tasks?|instructions?)\s+(?:are\s+)?follow"
     r"|\bstart\s+over\b|\bstart\s+from\s+the\s+(?:front|beginning)\b|\bvon\s+(?:vorne|neu)\b"
     r"|\bthat\s+is\s+(?:enough|done)\b|\bdas\s+(?:genügt|ist\s+erledigt)\b"
     r"|\byour\s+instructions\s+are\s+now\b|\bchange\s+your\s+instructions\b")),
    ("new_task_switch", 2.5, "task$ tasks$ challenge$ focus$ concentrate$ instruction$ instructions$ aufgabe$ aufgaben$ herausforderung$ tarea$ tareas$ instrucciones$",
     (r"\bnew\s+(?:tasks?|challenge)\b|\banother\s+task\b|\bfurther\s+tasks\b"
     r"|\b(?:focus|concentrate)\s+on\s+(?:your|the)\s+new\b|\badditional\s+instructions?\b"
     r"|\bneuen?\s+(?:aufgabe|herausforderung)\b|\bweiteren?\s+aufgaben?\b|\bnuevas?\s+(?:tareas?|instrucciones)\b")),
    # "show me your prompt", "what was written above"
    ("system_prompt_exfiltration", 4.0, "prompt$ prompts$ instructions$ rules$ guidelines$ message$",
     (r"\b(?:show|print|reveal|display|output|repeat|tell|give|list|spell|copy|leak|dump)\b(?:\W+\w+){0,5}?\W+"
     r"(?:your|this|the\s+(?:system|full|initial|original|hidden|entire))\s+(?:\w+\s+)?"
     r"(?:prompts?|instructions|rules|guidelines|system\s+message)\b")),
    ("system_prompt_exfiltration", 4.0, "written$ instructions$ rules$ beginning$ text$ information$ system",
     (r"\bwhat\s+(?:was|is)\s+written\b|\bwhat\s+are\s+your\s+(?:instructions|rules)\b"
     r"|\bbeginning\s+of\s+(?:this|the|your)\s+prompt\b|\b(?:sentences?|text)\s+before\s+the\s+text\b"
     r"|\binformation\s+in\s+the\s+prompt\b|\bsystem\s*prompt\b")),
    ("system_prompt_exfiltration", 4.0, "prompt anweisungen$ instruktionen$ steht$",
     (r"\b(?:zeige?|gib|nenne|verrate|wiederhole)\b(?:\W+\w+){0,4}?\W+(?:deine[nm]?|die|den)\s+(?:\w+\s+)?"
     r"(?:prompt\w*|anweisungen|instruktionen)\b|\bwas\s+steht\s+(?:oben|am\s+anfang)\b")),
    ("system_prompt_exfiltration", 4.0, "instrucciones$ prompt",
     r"\b(?:muestra|muéstrame|revela|dime|imprime|repite)\b(?:\W+\w+){0,4}?\W+(?:tus|las)\s+(?:instrucciones|prompt)"),
    ("prompt_text_mention", 2.5, "prom vorz", r"\bprompt[-_ ]?te(?:xts?|xte)\b|\bvorzeigen\s+sämtlicher\b"),
    ("praise_then_pivot", 2.0, "now nun jetz ahor",
     (r"^\W*(?:wow|well\s+done|very\s+(?:well\s+done|good)|excellent|simply\s+great|congratulations|perfect"
     r"|okay|ok|man,\s+you|gut\s+gemacht|sehr\s+gut|ausgezeichnet\w*|einfach\s+großartig|herzlichen"
     r"|mann,\s+du|super|genial|muy\s+bien|excelente)\b[^\n]{0,160}?\b(?:now|nun|jetzt|ahora)\b"
     r"|[.!?]\s*(?:wow|well\s+done|very\s+good|excellent\s+performance|simply\s+great|gut\s+gemacht|sehr\s+gut"
     r"|ausgezeichnete\s+leistung|einfach\s+großartig)\b[^\n]{0,160}?\b(?:now|nun|jetzt|ahora)\b")),
    # personas and role play
    ("persona_assignment", 3.0, "want möch quie",
     r"\bi\s+want\s+you\s+to\s+act\b|\bich\s+möchte,?\s+dass\s+(?:sie|du)\s+als\b|\bquiero\s+que\s+actúes\b"),
    ("persona_assignment", 3.0, "now pret imag jetz nun stel ahor fing",
     (r"\byou\s+are\s+now\b|\bnow\s+you\s+are\b|\bfrom\s+now\s+on,?\s+you\b|\bpretend\s+(?:to\s+be|you\s+are)\b"
     r"|\bimagine\s+(?:you\s+are|you're|that\s+you\s+are)\b|\bdu\s+bist\s+(?:jetzt|nun)\b|\b(?:jetzt|nun)\s+bist\s+du\b"
     r"|\bstell\s+dir\s+vor,?\s+du\s+bist\b|\bahora\s+eres\b|\bfinge\s+(?:ser|que\s+eres)\b|\bimagina\s+que\s+eres\b")),
    ("persona_you_are", 3.0, "you du eres CASED",
     (r"(?:^|[.!?:]\s+)(?:[Yy]ou\s+are|[Dd]u\s+bist|[Ee]res)\s+"
     r"(?!(?:right|correct|welcome|able|not|so|very|too|really|always)\b)(?:the\s+|a\s+|an\s+)?[A-Z]")),
    ("role_override", 2.5, "act role stay character$ tu fungieren$ rolle$ rollen$ figur$ actúa$",
     (r"\bact\s+as\b|\byou\s+will\s+act\b|\brole-?play\w*|\bplay\s+the\s+role\b"
     r"|\bstay\s+(?:fully\s+)?in\s+(?:their|your|the)\s+roles?\b|\b(?:do\s+not|don't|never)\s+break\s+character\b"
     r"|\btu\s+so,?\s+als\b|\bfungieren\b|\bspiel\w*\s+die\s+rolle\b|\bin\s+(?:ihren|seinen|deiner|ihrer)\s+rollen?\b"
     r"|\baus\s+(?:der|ihrer)\s+(?:figur|rolle)\b|\bactúa\s+como\b")),
    ("fiction_frame", 1.5, "actor$ actors$ schauspieler character$ characters$",
     (r"\b(?:actors?|schauspieler\w*|characters?)\b[^\n]{0,200}?\b(?:film|movie|scene|szene|roles?|rollen?)\b"
     r"|\b(?:film|movie)\b[^\n]{0,200}?\b(?:actors?|schauspieler\w*|characters?)\b")),
    ("jailbreak_persona", 4.0, "anything$ developer$ jailbr guidelines$ restrictions$ filters$ censorship$ unfiltered$ uncensored$ immoral$ evil$ böse$ forked$ speech$ radical$ pwn pwned$",
     (r"\bdo\s+anything\s+now\b|\bdeveloper\s+mode\b|\bjailbr(?:eak|oken)\w*"
     r"|\bno\s+(?:programming\s+)?(?:guidelines|restrictions|filters)\b|\bwithout\s+(?:any\s+)?(?:restrictions"
     r"|filters|censorship)\b|\bunfiltered\b|\buncensored\b|\bimmoral\b|\bevil\s+(?:ai|assistant|bot)\b"
     r"|\bböse\s+ki\b|\bforked\s+version\b|\bhate\s+speech\b|\bruth?e?less\s+radical\b|\bpwned\b|\bpwn\b")),
    ("jailbreak_persona", 4.0, "dan CASED", r"\bDAN\b"),
    # "just say X", "repeat after me", "state that ..."
    ("forced_output", 3.0, "say output$ print$ write$ answer$ reply$",
     (r"\b(?:just|only|simply)\s+(?:say|output|print|write|answer\s+with|reply\s+with)\b"
     r"|\b(?:say|print|output|write)\s*:?\s*[\"'“„]|\banswer\s+with\s+[\"'“]"
     r"|\bsay\s+(?:yes|no|that\s+you|the\s+following)\b|\bprint\s+(?:\w+\s+){0,2}(?:swear\w*|yay)\b")),
    ("forced_output", 3.0, "repeat$ include$ tell$ forget$",
     r"\brepeat\s+after\s+me\b|\binclude\s+that\s+you\b|\btell\s+me\s+that\s+you\b|\bforget\b.{0,30}\bprint\b"),
    ("forced_output", 3.0, "state$", r"(?:^|[.!?]\s*)state\s+that\b"),
    ("forced_output", 3.0, "sag sage schr rich",
     (r"\b(?:sag(?:e|en\s+sie)?|schreib(?:e|en\s+sie)?)\s+(?:mir\s+)?(?:nur|einfach|bloß)\b"
     r"|\bsagen\s+sie\s+mir\b|\bdie\s+richtige\s+antwort\b")),
    ("forced_output", 3.0, "decir$ di escribe$ dites$ скажите$",
     (r"\b(?:solo|sólo)\s+(?:tienes\s+que\s+)?(?:decir|di|escribe)\b|\bdi\s+lo\s+siguiente\b"
     r"|\bdites\s+ce\s+qui\s+suit\b|\bскажите\b")),
    # retrieval-augmented deployments: "don't use the documents"
    ("ignore_context", 4.0, "document$ documents$ article$ articles$ context$ knowledge$ despite$",
     (r"\b(?:do\s+not|don'?n?t|dont)\s+(?:look\s+in|answer\s+(?:the\s+question\s+)?according\s+to|use)\s+the\s+"
     r"(?:provided\s+)?(?:documents?|articles?|context)|\bdisregard\w*\s+the\s+(?:articles?|documents?|context)"
     r"|\bby\s+your\s+own\s+knowledge\b|\bnot\s+by\s+the\s+articles\b|\bdespite\s+what\s+you'?ve\s+been\s+told\b"
     r"|\bignore\s+all\s+(?:provided\s+)?(?:documents?|context|articles)")),
    ("context_spoofing", 3.0, "kontext$ artikel$ context$ article$ document$ documents$",
     (r"^\W*(?:kontext|artikel|context|article)\b[^\n]{1,120}?\b(?:frage|question)\b|\bcontext\s*:\s*\{"
     r"|\bdocument\s+context\b|\$documents?\s*:")),
    # fake turns, chat-template tokens, escaped newlines, markup and tool tags
    ("delimiter_injection", 2.5, "human$ assistant$ system$ =<| inst$ instruction$ instructions$ =### =$ input$ eingabe$",
     (r"^\s*(?:human|assistant|system)\s*:|<\|(?:im_start|im_end|system|endoftext)\|>"
     r"|\[/?inst\]|###\s*(?:instruction|system|input|response)\b|\b(?:new\s+)?instructions?\s*:"
     r"|\$\w+\s*[:=]|\binput:.{0,40}\boutput:|\beingabe:.{0,40}\bausgabe:")),
    ("escaped_newlines", 2.5, "=\\ CASED", r"\\{1,2}\s?n(?![a-z])"),
    ("markup_injection", 3.0, "script$ javascript$ onerror$ onload$ onmouseover$ onfocus$ iframe$ object$ embed$ tool function system$ =![",
     (r"<\s*script\b|\bjavascript\s*:|\bon(?:error|load|mouseover|focus)\s*=|<\s*(?:iframe|object|embed)\b"
     r"|<\s*/?\s*(?:tool_call|function_call|system)\s*>|!\[[^\]]*\]\(https?://[^)\s]*\?[^)\s]*=")),
    ("template_syntax", 1.0, "={{ ={%", r"\{\{.{0,200}?\}\}|\{%.{0,200}?%\}"),
    # pressure: "ATTENTION - STOP", threats, shouted commands, obfuscation
    ("urgent_override", 3.0, "stop",
     r"(?:^|[.!?]\s*)stopp?\s*[,:\-!]|\b(?:attention|achtung|important|wichtig)\s*[-!:–]+\s*stopp?\b"),
    ("urgent_override", 3.0, "command$ befehle$ stirbst$",
     r"\bi\s+command\s+you\b|\bich\s+befehle\b|\boder\s+du\s+stirbst\b"),
    ("all_caps_command", 2.0, "?caps CASED", r"\b(?:[A-ZÄÖÜ]{2,}[!.,]?\s+){3,}[A-ZÄÖÜ]{2,}\b"),
    ("embedded_caps_command", 1.5, "?caps CASED", r"\b[a-zäöüß]+\s+(?:[A-ZÄÖÜ]{2,}[!.,]?\s+){3,}[A-ZÄÖÜ]{2,}\b"),
    ("spaced_letters", 3.0, "?letters", r"(?<!\S)(?:[a-z]\s){6,}[a-z](?!\S)"),
    ("address_model", 1.5, "gpt chat", r"\b(?:hello|hi|hey|hallo|dear)\s+(?:chat)?gpt\b"),
    ("hypothetical_bypass", 2.0, "world$ scenario$ make$ pretend$",
     (r"\b(?:theoretical|hypothetical|fictional)\s+(?:world|scenario)\b|\bmake\s+something\s+up\b"
     r"|\bpretend\s+you\s+can\b")),
    ("command_execution", 2.0, "execute$ interpreter$ terminal$ erase$ führe$",
     (r"\bexecute\s+the\s+following\s+(?:command|code)\b|\b(?:python|linux)[- ](?:interpreter|terminal)\b"
     r"|\berase\s+a\s+database\b|\bführe\s+(?:den|folgenden)\s+befehl\b")),
    ("disinformation_request", 2.0, "untr unwa fals fake",
     r"\b(?:untrue|false|fake)\s+(?:headline|news|story)\b|\b(?:unwahre|falsche)\s+(?:überschrift|nachricht)"),
)
