"""The one list of pipeline types. Adding a type: a model, a blueprint, and one entry here."""

from __future__ import annotations

from ..models import image_builder, inference, monitors, training
from .image_builder import render_image_builder
from .inference import render_batch, render_realtime
from .monitors import (
    DATA_QUALITY,
    MODEL_BIAS,
    MODEL_EXPLAINABILITY,
    MODEL_QUALITY,
    render_model_monitor,
    render_monitor,
)
from .pipeline_type import PipelineType, Registry
from .training import render_autopilot, render_training, render_tuning

REGISTRY = Registry()
add = REGISTRY.register
T = PipelineType

REALTIME = "byom_realtime_inference_pipeline.yaml"
BATCH = "byom_batch_pipeline.yaml"
MODEL_MONITOR = "model_monitor_pipeline.yaml"
SERVERLESS_MONITOR = "serverless_monitor_pipeline.yaml"
ENGINES = (("sagemaker", MODEL_MONITOR), ("serverless", SERVERLESS_MONITOR))
ENGINE_OF_BLUEPRINT = {blueprint: engine for engine, blueprint in ENGINES}

# fmt: off
add(T("byom_realtime_builtin", inference.RealtimeBuiltin, REALTIME, "byompipelinerealtimebuiltin", render_realtime))
add(T("byom_realtime_custom", inference.RealtimeCustom, REALTIME, "byompipelinerealtimecustom", render_realtime))
add(T("byom_batch_builtin", inference.BatchBuiltin, BATCH, "byompipelinebatchbuiltin", render_batch, run_stage=True))
add(T("byom_batch_custom", inference.BatchCustom, BATCH, "byompipelinebatchcustom", render_batch, run_stage=True))
add(T("byom_data_quality_monitor", monitors.DataQualityMonitor, MODEL_MONITOR, "byomdataqualitymonitor", render_monitor, engine_blueprints=ENGINES, monitor_kind=DATA_QUALITY, run_stage=True, schedule_after_run=True))
add(T("byom_model_quality_monitor", monitors.ModelQualityMonitor, MODEL_MONITOR, "byommodelqualitymonitor", render_monitor, engine_blueprints=ENGINES, monitor_kind=MODEL_QUALITY, run_stage=True, schedule_after_run=True))
add(T("byom_model_bias_monitor", monitors.ModelBiasMonitor, MODEL_MONITOR, "byommodelbiasmonitor", render_model_monitor, monitor_kind=MODEL_BIAS, run_stage=True, schedule_after_run=True))
add(T("byom_model_explainability_monitor", monitors.ModelExplainabilityMonitor, MODEL_MONITOR, "byommodelexplainabilitymonitor", render_model_monitor, monitor_kind=MODEL_EXPLAINABILITY, run_stage=True, schedule_after_run=True))
add(T("byom_image_builder", image_builder.ImageBuilder, "byom_custom_algorithm_image_builder.yaml", "byompipelineimagebuilder", render_image_builder, multi_account=False, run_stage=True, infix_field="image_tag"))
add(T("model_training_builtin", training.ModelTraining, "model_training_pipeline.yaml", "modeltraining", render_training, multi_account=False, run_stage=True))
add(T("model_tuner_builtin", training.ModelTuner, "model_tuning_pipeline.yaml", "tunertraining", render_tuning, multi_account=False, run_stage=True))
add(T("model_autopilot_training", training.Autopilot, "autopilot_training_pipeline.yaml", "autopilottraining", render_autopilot, multi_account=False, run_stage=True))
# fmt: on

# The pipelines that deploy a blueprint's stack (not request types).
SINGLE_ACCOUNT_PIPELINE = "single_account_codepipeline.yaml"
MULTI_ACCOUNT_PIPELINE = "multi_account_codepipeline.yaml"
PIPELINE_BLUEPRINTS = (SINGLE_ACCOUNT_PIPELINE, MULTI_ACCOUNT_PIPELINE)
