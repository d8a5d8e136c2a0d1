"""``GET /v1/models``: the models this node serves."""

from __future__ import annotations

from fastapi import APIRouter

from ...runtime import ServedModel
from ..convert import hex0x
from ..deps import RuntimeDep
from ..schemas import LayerPublic, ModelPublic, ModelsPublic

router = APIRouter(prefix="/models", tags=["models"])


def model_public(served: ServedModel) -> ModelPublic:
    model = served.model
    return ModelPublic(
        model_id=hex0x(served.model_id),
        file_hash=hex0x(served.file_hash),
        input_dim=served.in_dim,
        output_dim=served.out_dim,
        accepts_float=served.accepts_float,
        input_scale=model.input_scale,
        output_scale=model.output_scale,
        layers=[
            LayerPublic(
                index=i,
                in_dim=layer.in_dim,
                out_dim=layer.out_dim,
                multiplier=layer.multiplier,
                shift=layer.shift,
                activation=layer.activation.name.lower(),
                sensitive=model.is_sensitive_layer(i),
            )
            for i, layer in enumerate(model.layers, start=1)
        ],
        hidden_trace_indices=sorted(served.hidden),
    )


@router.get("", response_model=ModelsPublic)
def read_models(runtime: RuntimeDep) -> ModelsPublic:
    """Retrieve the served models."""
    data = [model_public(s) for s in runtime.models.values()]
    return ModelsPublic(data=data, count=len(data))
