from easydict import EasyDict as edict

# ActorFace's built-in copy of arcface_torch's configs/base.py (the defaults every job config is overlaid on),
# used when no base.py sits next to the job file. Same keys, same values as the published file.

config = edict()

# margin-based softmax
config.margin_list = (1.0, 0.5, 0.0)
config.network = "r50"
config.resume = False
config.save_all_states = False
config.output = "ms1mv3_arcface_r50"

config.embedding_size = 512

# Partial FC
config.sample_rate = 1
config.interclass_filtering_threshold = 0

config.fp16 = False
config.batch_size = 128

# optimiser
config.optimizer = "sgd"
config.lr = 0.1
config.momentum = 0.9
config.weight_decay = 5e-4

config.verbose = 2000
config.frequent = 10

# NVIDIA DALI loader (large datasets)
config.dali = False
config.dali_aug = False

# gradient accumulation
config.gradient_acc = 1

# global seed
config.seed = 2048

# data loader workers
config.num_workers = 2

# Weights & Biases logging
config.wandb_key = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
config.suffix_run_name = None
config.using_wandb = False
config.wandb_entity = "entity"
config.wandb_project = "project"
config.wandb_log_all = True
config.save_artifacts = False
config.wandb_resume = False
