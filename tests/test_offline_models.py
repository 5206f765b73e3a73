"""The offline heuristic models (workbench.models.offline) and their litellm binding (its provider module)."""
from __future__ import annotations

import asyncio
import json
import time

import jsonschema
import pytest

from workbench.errors import UnknownModelError
from workbench.models.offline import OFFLINE_MODELS, REFUSAL, respond, sentences
from workbench.models.tokens import tokenizer_for

CONTRACT = "Context:\nThe blue door is on Elm Street. The red door opened in 1972.\n\nQuestion: When did the red door open?"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def qa_prompt(context: str, question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Answer the question using only the context."},
            {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"}]


# (context, question, expected substring of a correct reply; REFUSAL when the context does not hold the answer)
QA_SET: list[tuple[str, str, str]] = [
    (("The Harbor Bridge is a landmark of the city. Tourists walk across the bridge every summer. "
      "The bridge was completed in 1932 after eight years of work."), "When was the bridge completed?", "1932"),
    (("Acme Corp makes garden tools. Acme employees receive training each spring. "
      "The company has 4,200 staff across nine countries."), "How many staff does the company have?", "4,200"),
    (("The museum is open daily. The museum's east wing holds modern art. "
      "The museum was designed by Lina Bo Bardi."), "Who designed the museum?", "Lina Bo Bardi"),
    (("Mount Rainier is a volcano in Washington. Climbers attempt the mountain in July. "
      "The summit of the mountain reaches 4,392 meters."), "How high is the summit of the mountain?", "4,392"),
    (("Our coffee is roasted locally. Coffee orders ship within two days. "
      "A bag of house blend coffee costs $14.50."), "How much does a bag of house blend coffee cost?", "$14.50"),
    (("The library lends books and films. Library cards are free for residents. "
      "The library closes at 8 pm on weekdays."), "When does the library close on weekdays?", "8 pm"),
    (("The river is 212 kilometers long. Fishing on the river requires a permit. "
      "The river flows through three towns."), "How long is the river?", "212 kilometers"),
    (("The festival celebrates local music. Tickets for the festival sell out quickly. "
      "The festival began in 1987 in a small barn."), "When did the festival begin?", "1987"),
    (("The school has a large sports field. Students at the school wear uniforms. "
      "The school was founded by Margaret Hale."), "Who founded the school?", "Margaret Hale"),
    (("The telescope sits on a remote hill. Astronomers use the telescope at night. "
      "The telescope's mirror is 10 meters wide."), "How wide is the telescope's mirror?", "10 meters"),
    (("The bakery sells bread and cakes. Bread at the bakery is baked before dawn. "
      "The bakery sells about 600 loaves each morning."), "How many loaves does the bakery sell each morning?", "600"),
    (("Meals can be bought on board. The train journey takes 5 hours. "
      "The train connects two capitals."), "How many hours does the train journey take?", "5 hours"),
    (("The garden contains rare orchids. Visitors to the garden must stay on paths. "
      "The garden was opened to the public in 1964."), "When was the garden opened to the public?", "1964"),
    (("The novel was written by Teresa Veiga. Critics praised the novel's style. "
      "The novel is set in Lisbon."), "Who wrote the novel?", "Teresa Veiga"),
    (("The stadium hosts football matches. Fans fill the stadium on Sundays. "
      "The stadium holds 61,000 people."), "How many people does the stadium hold?", "61,000"),
    (("The castle overlooks the valley. Tours of the castle run hourly. "
      "The castle was built in 1205 by a local lord."), "When was the castle built?", "1205"),
    (("The app tracks daily steps. Users of the app can set goals. "
      "The premium app subscription costs $4.99 per month."), "How much does the premium subscription cost?", "$4.99"),
    (("The orchestra performs classical works. Musicians in the orchestra rehearse twice a week. "
      "The orchestra is conducted by Daniel Ortega Ruiz."), "Who conducts the orchestra?", "Daniel Ortega Ruiz"),
    (("Swimming is allowed in summer. The lake is 87 meters deep at its deepest point. "
      "Boats on the lake are rented by the hour."), "How deep is the lake?", "87 meters"),
    (("The hospital opened in 2009. Nurses at the hospital work long shifts. "
      "The hospital serves the northern district."), "When did the hospital open?", "2009"),
    (("The ferry crosses the strait. Cars can board the ferry at the south pier. "
      "The ferry carries up to 300 passengers."), "How many passengers does the ferry carry?", "300"),
    (("The painting hangs in the main hall. Restorers cleaned the painting last year. "
      "The painting was created by Ana Mendieta."), "Who created the painting?", "Ana Mendieta"),
    (("The Elm Street market sells fresh fish. Parking near the market is limited. "
      "The market moved to Elm Street in 1998 after a fire."), "When did the market move to Elm Street?", "1998"),
    ("Acme employees enjoy a large cafeteria. Acme has 300 staff in total.",
     "How many employees does Acme have?", "300"),
    (("The first bridge across the bay was wooden. The current bridge was designed by Othmar Ammann. "
      "The bridge is painted every decade."), "Who designed the current bridge?", "Othmar Ammann"),
    (("Engineers monitor it from a ground station. The satellite weighs 1,450 kilograms. "
      "The satellite orbits the Earth every 90 minutes."), "How much does the satellite weigh?", "1,450"),
    (("The tower is the tallest building in the city. Elevators in the tower are fast. "
      "Construction of the tower cost 400 million dollars."), "How much did construction of the tower cost?",
     "400 million"),
    # paraphrases that a lexical heuristic is expected to miss (kept so the measured accuracy stays honest)
    ("Zentek builds industrial robots. Zentek was founded in 1990 by two engineers.",
     "When was the firm established?", "1990"),
    ("The clinic treats children. Its doctors see about 40 young patients on a typical day.",
     "What is the daily number of kids treated?", "40"),
    # the context does not hold the answer: a correct reply declines
    ("The blue door is on Elm Street. The red door opened in 1972.", "Who painted the green gate?", REFUSAL),
    ("The bakery sells bread and cakes. The bakery opens at 6 am.", "What is the bakery's phone number?", REFUSAL),
    ("The castle overlooks the valley. The castle was built in 1205.", "When did Napoleon visit Vienna?", REFUSAL),
    ("Tickets cost 10 euros. The show lasts two hours.", "Who directed the film adaptation?", REFUSAL),
    ("The ferry crosses the strait. The ferry carries 300 passengers.", "What is the capital of Portugal?", REFUSAL),
]


def accuracy(model: str) -> float:
    hits = [expected in respond(model, qa_prompt(ctx, q)) for ctx, q, expected in QA_SET]
    return sum(hits) / len(hits)


# ------------------------------------------------------------------ extractive / keyword

def test_contract_prompt_answers_from_context():
    assert "1972" in respond("extractive", user(CONTRACT))


def test_refusal_when_context_lacks_the_answer():
    prompt = "Context:\nThe blue door is on Elm Street. The red door opened in 1972.\n\nQuestion: Who painted the green gate?"
    assert respond("extractive", user(prompt)) == REFUSAL
    assert respond("extractive", user("When did the red door open?")) == REFUSAL  # no context at all


def test_quality_gap_between_tiers():
    strong, weak = accuracy("extractive"), accuracy("keyword")
    assert strong >= 0.8, strong
    assert weak >= 0.15, weak  # the weak tier is worse, not useless
    assert strong - weak >= 0.05, (strong, weak)


def test_only_the_strong_tier_refuses_when_the_context_lacks_the_answer():
    # questions that share one word with the context but ask about something it does not hold
    unanswerable = [(ctx, f"What does the {ctx.split()[1].strip('.,')} cost on the planet Mars in 2391?")
                    for ctx, _, _ in QA_SET]
    refusals = {m: sum(respond(m, qa_prompt(ctx, q)) == REFUSAL for ctx, q in unanswerable) / len(unanswerable)
                for m in ("extractive", "keyword")}
    assert refusals["extractive"] - refusals["keyword"] >= 0.3, refusals


@pytest.mark.parametrize("model", ["extractive", "keyword", "judge", "drafter"])
def test_deterministic(model):
    messages = user(CONTRACT + "\nAnswer: The red door opened in 1972.\nReference: 1972")
    assert len({respond(model, messages) for _ in range(3)}) == 1


def test_context_formats():
    tagged = ('<documents><document index="1">The blue door is on Elm Street.</document>'
              '<document index="2">The red door opened in 1972.</document></documents>\nWhen did the red door open?')
    numbered = "## Context\n[1] The blue door is on Elm Street.\n[2] The red door opened in 1972.\n\n## Question\n" \
               "When did the red door open?"
    system = [{"role": "system", "content": "The blue door is on Elm Street. The red door opened in 1972."},
              {"role": "user", "content": "When did the red door open?"}]
    for messages in (user(tagged), user(numbered), system):
        assert respond("extractive", messages) == "The red door opened in 1972."


def test_summary_without_question():
    text = ("Summarize the key points.\n\nContext:\nSolar panels turn sunlight into electricity. Solar panels are "
            "cheaper every year. The cat sleeps. Many homes now use solar panels to cut electricity bills. "
            "Birds sing.")
    summary = respond("extractive", user(text))
    assert "cat" not in summary and summary.count(".") == 3
    assert respond("keyword", user(text)) == ("Solar panels turn sunlight into electricity. "
                                            "Solar panels are cheaper every year.")
    assert "Ready" in respond("extractive", user("Hello there"))


def test_sentence_splitter_keeps_abbreviations_and_decimals():
    assert sentences("Dr. Smith paid $3.50 at 5 p.m. on Monday. Then he left.") == [
        "Dr. Smith paid $3.50 at 5 p.m. on Monday.", "Then he left."]


# ------------------------------------------------------------------ structured output

SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "quote": {"type": "string"},
        "year": {"type": "integer"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "found": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "kind": {"enum": ["date", "other"]},
        "meta": {"$ref": "#/$defs/Meta"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["answer", "quote", "year", "found", "meta"],
    "additionalProperties": False,
    "$defs": {"Meta": {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}},
}


@pytest.mark.parametrize("model", ["extractive", "keyword"])
def test_json_schema_reply_validates(model):
    for fmt in ({"type": "json_schema", "json_schema": {"name": "qa", "schema": SCHEMA}}, {"schema": SCHEMA}):
        data = json.loads(respond(model, user(CONTRACT), fmt))
        jsonschema.validate(data, SCHEMA)
    if model == "extractive":
        assert data["year"] == 1972 and data["found"] is True and "1972" in data["quote"]


def test_json_object_and_refusal_in_json():
    assert json.loads(respond("extractive", user(CONTRACT), {"type": "json_object"})) == {
        "answer": "The red door opened in 1972."}
    refused = json.loads(respond("extractive", user("Context:\nThe sky is blue.\nQuestion: Who built Rome?"),
                                 {"type": "json_schema", "json_schema": {"schema": SCHEMA}}))
    jsonschema.validate(refused, SCHEMA)
    assert refused["answer"] == REFUSAL and refused["found"] is False


def test_pydantic_model_as_response_format():
    pydantic = pytest.importorskip("pydantic")

    class Reply(pydantic.BaseModel):
        answer: str
        evidence: str
        year: int

    reply = Reply.model_validate_json(respond("extractive", user(CONTRACT), Reply))
    assert reply.year == 1972


# ------------------------------------------------------------------ judge

def judge(answer: str, reference: str | None = None, context: str | None = None) -> dict:
    parts = ["Grade the answer.", "Question: When did the red door open?", f"Answer: {answer}"]
    parts += [f"Reference: {reference}"] if reference else []
    parts += [f"Context:\n{context}"] if context else []
    reply = json.loads(respond("judge", user("\n".join(parts))))
    assert set(reply) == {"score", "verdict", "reason"} and 0 <= reply["score"] <= 1
    assert reply["verdict"] == ("pass" if reply["score"] >= 0.5 else "fail") and reply["reason"].endswith(".")
    return reply


def test_judge_passes_good_and_fails_bad_answers():
    context = "The blue door is on Elm Street. The red door opened in 1972."
    for ref, ctx in (("1972", None), ("1972", context), (None, context), ("It opened in 1972 | 1972", None)):
        assert judge("The red door opened in 1972.", ref, ctx)["verdict"] == "pass", (ref, ctx)
        assert judge("The blue door is on Elm Street.", ref, ctx)["verdict"] == "fail", (ref, ctx)
    assert judge(REFUSAL, "The answer is not in the context.")["verdict"] == "pass"
    assert judge(REFUSAL, "1972")["verdict"] == "fail"
    assert judge(REFUSAL, None, context)["verdict"] == "fail"


def test_judge_with_schema_and_missing_answer():
    schema = {"type": "object", "properties": {"score": {"type": "number"}, "passed": {"type": "boolean"},
                                               "explanation": {"type": "string"}}, "required": ["score", "passed"]}
    fmt = {"type": "json_schema", "json_schema": {"schema": schema}}
    data = json.loads(respond("judge", user("Question: When?\nAnswer: 1972\nReference: 1972"), fmt))
    jsonschema.validate(data, schema)
    assert data["passed"] is True and data["score"] == 1.0
    assert json.loads(respond("judge", user("Question: When?")))["verdict"] == "fail"


# ------------------------------------------------------------------ drafter

DOCUMENT = ("Marie Curie won two Nobel Prizes. Photosynthesis is the process by which plants make food. "
            "The Golden Gate Bridge opened in 1937 in San Francisco. The company was founded by Ada Lovelace. "
            "A ticket to the museum costs $25 for adults. It rained. The weather was pleasant and mild that day.")


def test_drafter_returns_questions_from_verbatim_sentences():
    items = json.loads(respond("drafter", user(f"Write 3 questions about this document.\n\nDocument:\n{DOCUMENT}")))
    assert isinstance(items, list) and len(items) == 3
    for item in items:
        assert set(item) == {"question", "answer", "sentence"}
        assert item["sentence"] in DOCUMENT and item["answer"] in item["sentence"]
        assert item["question"].endswith("?")
    all_items = json.loads(respond("drafter", user(DOCUMENT)))
    assert len(all_items) == 5 and all(i["sentence"] in DOCUMENT for i in all_items)
    assert {"question": "The Golden Gate Bridge opened in what year in San Francisco?", "answer": "1937",
            "sentence": "The Golden Gate Bridge opened in 1937 in San Francisco."} in all_items


# ------------------------------------------------------------------ errors and speed

def test_unknown_model_lists_offline_models():
    with pytest.raises(UnknownModelError) as info:
        respond("oracle", user("hi"))
    assert all(name in str(info.value) for name in OFFLINE_MODELS)


def test_fast_on_a_2kb_prompt():
    context = " ".join(f"Item {i} of the catalogue is a lamp made in {1900 + i} by Studio {i % 9}." for i in range(30))
    messages = user(f"Context:\n{context[:1900]}\n\nQuestion: When was item 17 made?")
    respond("extractive", messages)
    start = time.perf_counter()
    for _ in range(50):
        respond("extractive", messages)
    assert (time.perf_counter() - start) / 50 < 0.004  # target 2 ms; slack for noisy CI machines


# ------------------------------------------------------------------ litellm binding

@pytest.fixture(scope="module")
def litellm():
    from workbench.models.litellm_env import import_litellm
    from workbench.models.offline import register_offline

    module = import_litellm()
    register_offline()
    return module


def test_litellm_completion_through_local_provider(litellm):
    messages = user(CONTRACT)
    response = litellm.completion(model="local/extractive", messages=messages)
    text = response.choices[0].message.content
    assert text == "The red door opened in 1972." and response.choices[0].finish_reason == "stop"
    tok = tokenizer_for("local/extractive")
    assert response.usage.prompt_tokens == tok.count_messages(messages)
    assert response.usage.completion_tokens == tok.count(text)
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_litellm_async_stream_and_response_format(litellm):
    messages = user(CONTRACT)
    response = asyncio.run(litellm.acompletion(model="local/keyword", messages=messages))
    assert response.choices[0].message.content == "The red door opened in 1972."
    chunks = list(litellm.completion(model="local/extractive", messages=messages, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "The red door opened in 1972."
    fmt = {"type": "json_schema", "json_schema": {"name": "qa", "schema": SCHEMA}}
    response = litellm.completion(model="local/extractive", messages=messages, response_format=fmt)
    jsonschema.validate(json.loads(response.choices[0].message.content), SCHEMA)


def test_register_offline_is_idempotent_and_keeps_user_entries(litellm):
    from workbench.models.offline import register_offline

    sentinel = {"provider": "someone-else", "custom_handler": object()}
    litellm.custom_provider_map.append(sentinel)
    try:
        register_offline()
        register_offline()
        assert [e["provider"] for e in litellm.custom_provider_map].count("local") == 1
        assert sentinel in litellm.custom_provider_map
    finally:
        litellm.custom_provider_map.remove(sentinel)


def test_unknown_local_model_error_through_litellm(litellm):
    from workbench.models.offline import unwrap_error

    with pytest.raises(Exception) as info:
        litellm.completion(model="local/oracle", messages=user("hi"), num_retries=0)
    assert isinstance(unwrap_error(info.value), UnknownModelError)
