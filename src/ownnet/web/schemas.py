"""The shapes of the API's requests and answers (for checking them and for the API docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    detail: str


class Prediction(BaseModel):
    """The network's answer for one image."""

    digit: int = Field(description="the most likely digit, 0..9")
    probabilities: list[float] = Field(
        description="10 confidences summing to 1, as `ownnet predict` gives them: a softmax "
        "network's probabilities, or the classic network's sigmoid outputs divided by their sum"
    )
    meaning: str = Field(description="what the probabilities are, in words")
    outputs: list[float] = Field(description="the network's 10 raw outputs")
    input: list[int] = Field(
        description="the 28x28 image the network received, 784 values 0..255 row by row "
        "(0 background, 255 ink)"
    )
    source: Literal["image", "pixels"] = Field(
        description="'image': an image file prepared like `ownnet predict` does; "
        "'pixels': JSON pixels used as they are"
    )
    model: str = Field(description="the name of the model that answered")


class Layer(BaseModel):
    name: str = Field(description="input, conv1, pool1, hidden1, ..., output")
    kind: Literal["input", "conv", "pool", "dense", "output"]
    shape: list[int]


class ModelCard(BaseModel):
    name: str
    source: str
    kind: str
    sizes: list[int] | None
    description: str
    test_accuracy: float | None = Field(description="of the model file (before any teaching)")
    settings: dict[str, Any]
    seed: int | None
    dataset: str | None
    ownnet_version: str | None
    config: dict[str, Any]
    has_backquery: bool
    layers: list[Layer]
    meaning: str = Field(description="what the probabilities are, in words")
    taught: int = Field(description="training steps taught on the draw page since the file")


class LayerValues(Layer):
    values: list[float] = Field(description="the layer's output for the picture, flat")


class SaliencyMap(BaseModel):
    digit: int = Field(description="the class the map is for")
    values: list[float] = Field(
        description="784 values, row by row: pixel x d(net input of the class)/d(pixel); "
        "positive pushed towards the class"
    )


class Inside(BaseModel):
    """Every layer's output, the saliency map and the answer for one picture."""

    layers: list[LayerValues]
    saliency: SaliencyMap
    probabilities: list[float]
    digit: int
    meaning: str
    model: str


class ClassPictures(BaseModel):
    method: Literal["backquery", "maximize"]
    images: list[list[float]] = Field(description="10 pictures of 784 values 0..1 (1 = ink)")
    read_as: list[int] = Field(description="what the model reads in each picture")


class TrainRequest(BaseModel):
    """Settings of a watch-it-learn run; omitted values take the preset's defaults."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["classic", "mlp"] = Field(
        "classic",
        description="classic: the book's network, one sample at a time; mlp: a small "
        "relu/softmax MLP of the matrix engine with Adam",
    )
    hidden: int | None = Field(None, ge=1, le=1024, description="hidden units")
    lr: float | None = Field(None, gt=0, le=10, description="learning rate")
    samples: int | None = Field(
        None, ge=100, le=60000, description="training images used (the first N)"
    )
    epochs: int | None = Field(None, ge=1, le=20)
    every: int | None = Field(
        None,
        ge=1,
        le=100000,
        description="report every N steps (classic: a step is one sample; mlp: a batch of 32)",
    )
    speed: float | None = Field(
        None, ge=0.5, le=1e6, description="samples per second (null: as fast as it goes)"
    )
    seed: int = Field(0, ge=0, le=2**32 - 1)
    beside: int | None = Field(
        None, ge=1, description="the run this one is compared with (the page shows them together)"
    )


class Empty(BaseModel):
    """No settings: ``{}`` (or an empty body)."""

    model_config = ConfigDict(extra="forbid")


class RunRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run: int | None = Field(None, ge=1, description="the run (default: the latest)")


class SpeedRequest(RunRef):
    speed: float | None = Field(
        description="samples per second (null: as fast as it goes)", ge=0.5, le=1e6
    )


class ModelName(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, description="a file name of the server's model folder")


class TrainStatus(BaseModel):
    run: int | None = Field(description="the run's number, null before the first run")
    status: Literal["idle", "starting", "running", "stopping", "stopped", "done", "error"]
    settings: dict[str, Any]
    events: int
    error: str | None
    test_accuracy: float | None
    saved: str | None
    can_save: bool
    seconds: float
    started: float | None = Field(None, description="when it started (seconds since 1970)")
    beside: int | None = Field(None, description="the run it is compared with")


class TrainOverview(TrainStatus):
    runs: list[TrainStatus] = Field(description="the runs kept, oldest first")


class Saved(BaseModel):
    saved: str = Field(description="the file name the model was saved as (in the server's folder)")
    model: ModelCard


def json_request(model: type[BaseModel], description: str) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint that reads a JSON body of ``model``."""
    return {
        "requestBody": {
            "required": False,
            "description": description,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


PIXELS_SCHEMA = {
    "type": "object",
    "properties": {
        "pixels": {
            "description": "784 numbers, or 28 rows of 28, 0 background; used as the network's "
            "input without preparing",
            "type": "array",
            "items": {"anyOf": [{"type": "number"}, {"type": "array"}]},
        },
        "scale": {
            "description": "1 for values 0..1, 255 for 0..255 (default: 1 when no value "
            "is above 1)",
            "enum": [1, 255],
        },
    },
    "required": ["pixels"],
}


def pixels_request(description: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for an endpoint that reads JSON pixels and ``fields``."""
    schema = {**PIXELS_SCHEMA, "properties": {**PIXELS_SCHEMA["properties"], **fields}}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


IMAGE_CONTENT = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary"}},
            "required": ["file"],
        }
    },
    "image/png": {"schema": {"type": "string", "format": "binary"}},
}

PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "An image file (PNG, JPEG, BMP, GIF, ...) as a multipart upload or as "
        "the raw body, or JSON pixels. Bodies over 2 MB get 413.",
        "content": {**IMAGE_CONTENT, "application/json": {"schema": PIXELS_SCHEMA}},
    }
}

PREPARE_BODY = {
    "requestBody": {
        "required": True,
        "description": "An image file as a multipart upload or as the raw body.",
        "content": IMAGE_CONTENT,
    }
}


def errors(**codes: str) -> dict[int | str, dict[str, Any]]:
    """``responses`` for the API docs: status code -> what it means."""
    return {int(code[1:]): {"model": Message, "description": text} for code, text in codes.items()}


INPUT_ERRORS = errors(
    e400="malformed JSON or form",
    e403="a request from another site",
    e409="no model loaded",
    e413="body over 2 MB",
    e415="unsupported Content-Type",
    e422="not an image, no ink, wrong length, NaN, values out of range",
)

IDLE = {
    "run": None,
    "status": "idle",
    "settings": {},
    "events": 0,
    "error": None,
    "test_accuracy": None,
    "saved": None,
    "can_save": False,
    "seconds": 0.0,
}
