"""The AI-skills tagging rule set: which skills blocks and offers speak of data and AI.

The rule is deliberately simple so that a curator can predict it and overrule it:

1. The texts are compared without case or accents (« Données » = « donnees »).
2. An entry is flagged when one of its texts contains one of the expressions below, as whole
   words. They are of two kinds:
   - artificial intelligence: « intelligence artificielle », « IA » / « AI » as a word,
     « IA générative », « machine learning », « apprentissage automatique », « deep learning »,
     « apprentissage profond », « réseau(x) de neurones », « traitement automatique du langage »,
     « NLP », « vision par ordinateur », « LLM », « modèle(s) de langage », « ChatGPT »,
     « prompt », « agent(s) conversationnel(s) », « chatbot »;
   - data: « science(s) des données », « data science », « data scientist », « data analyst »,
     « analyse de(s) données », « big data », « données massives », « data visualisation » /
     « datavisualisation » / « dataviz », « business intelligence », « informatique
     décisionnelle », « data engineer(ing) », « ingénierie des données », « exploitation des
     données ».
3. An entry a curator has confirmed or overruled (`ai_related_by_curator`) is never re-tagged.

Texts read: a skills block's label; an offer's title, objectives and content.
"""

import re

from skills.text import fold

AI_EXPRESSIONS = [
    r"intelligence artificielle",
    r"ia",
    r"ai",
    r"ia generative",
    r"machine learning",
    r"apprentissage automatique",
    r"deep learning",
    r"apprentissage profond",
    r"reseaux? de neurones",
    r"traitement automatique du langage",
    r"nlp",
    r"vision par ordinateur",
    r"llms?",
    r"modeles? de langage",
    r"chatgpt",
    r"prompts?",
    r"agents? conversationnels?",
    r"chatbots?",
]
DATA_EXPRESSIONS = [
    r"sciences? des donnees",
    r"data science",
    r"data scientists?",
    r"data analysts?",
    r"analyses? des? donnees",
    r"big data",
    r"donnees massives",
    r"data ?visualisation",
    r"dataviz",
    r"business intelligence",
    r"informatique decisionnelle",
    r"data engineer(?:ing)?",
    r"ingenierie des donnees",
    r"exploitation des donnees",
]
# Longest first, so that « IA générative » is reported rather than « IA ».
_PATTERN = re.compile(r"\b(?:" + "|".join(sorted(AI_EXPRESSIONS + DATA_EXPRESSIONS, key=len, reverse=True)) + r")\b")


def matched_expression(*texts: str) -> str | None:
    """The first expression of the rule set found in the texts, or None."""
    for text in texts:
        match = _PATTERN.search(fold(text))
        if match:
            return match.group(0)
    return None


def is_ai_related(*texts: str) -> bool:
    return matched_expression(*texts) is not None


def tag_skill_blocks(queryset) -> int:
    """Apply the rule to skills blocks no curator has decided on; returns how many changed."""
    return _tag(queryset, lambda block: (block.label,), ["label"])


def tag_offers(queryset) -> int:
    """Apply the rule to offers no curator has decided on; returns how many changed."""
    return _tag(
        queryset, lambda offer: (offer.title, offer.objectives, offer.content), ["title", "objectives", "content"]
    )


def _tag(queryset, texts, fields) -> int:
    changed = []
    for entry in queryset.filter(ai_related_by_curator=False).only("pk", "ai_related", *fields):
        flag = is_ai_related(*texts(entry))
        if flag != entry.ai_related:
            entry.ai_related = flag
            changed.append(entry)
    if changed:
        queryset.model.objects.bulk_update(changed, ["ai_related"], batch_size=1000)
    return len(changed)
