__version__ = "0.1.0"
"""vri_text: virtual RNA inference from H&E, with text supervision.

The user API is re-exported here lazily: `import vri_text` stays light (no torch, timm or scanpy),
and `vri_text.fit` imports `vri_text.train` on first use. Written by hand (nbdev writes only the
version line above); every name below comes from a notebook-generated module."""

_API = {
    'data': ['Sample', 'Cohort', 'Splits', 'DataError', 'read_visium', 'read_hest', 'read_h5ad', 'select_genes', 'split_cohort', 'detect_format', 'need_file'],
    'visium_hd': ['read_visium_hd', 'SpotLayout', 'patch_squares', 'visium_to_hd'],
    'sdata': ['read_spatialdata', 'write_spatialdata'],
    'synthetic': ['make_cohort', 'demo_cohort', 'load_truth', 'ceiling'],
    'hest': ['hest_select', 'hest_download', 'hest_metadata', 'hest_cohort', 'hest_bench_task', 'hest_bench_download'],
    'patching': ['PatchConfig', 'extract_patches', 'extract_cohort_patches'],
    'features': ['get_encoder', 'extract_features', 'load_features', 'FOUNDATION_MODELS', 'encoder_architecture'],
    'dataset': ['RunConfig', 'RunSpec', 'Dataset', 'ContextConfig', 'prepare_run', 'prepare_demo', 'open_cohort', 'run_cohort'],
    'stream': ['stream_features', 'infer_slide'],
    'metrics': ['gene_corr', 'mean_gene_corr'],
    'head': ['HeadConfig', 'GeneHead', 'Checkpoint', 'load_checkpoint', 'save_checkpoint', 'predict', 'text_space'],
    'train': ['TrainConfig', 'Objective', 'fit', 'train_ensemble', 'run_baseline', 'save_fit', 'seed_table'],
    'evaluation': ['kfold_splits', 'poster_split', 'cross_validate', 'summarise', 'compare', 'paired_folds', 'hest_benchmark', 'linear_fit', 'ridge_fit', 'compare_fits'],
    'captions': ['get_captioner', 'caption_run', 'truth_captioner', 'shuffled_captioner', 'caption_prompt', 'TissuePreset', 'TISSUES'],
    'text': ['get_text_encoder', 'embed_captions', 'align_dataset'],
    'alignment': ['AlignConfig'],
    'text_study': ['alignment_study', 'save_alignment', 'text_sweep', 'query_map'],
    'inference': ['he_only_sample', 'virtual_rna', 'text_query'],
    'pipeline': ['PipelineConfig', 'run_pipeline', 'predict_slides', 'write_report'],
    'faults': ['verify_run'],
}
_WHERE = {name: mod for mod, names in _API.items() for name in names}
__all__ = sorted(_WHERE)

def __getattr__(name):
    "Import the module that defines `name` on first use."
    if name not in _WHERE: raise AttributeError(f"module 'vri_text' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(f'vri_text.{_WHERE[name]}'), name)

def __dir__(): return sorted(set(globals()) | set(__all__))
