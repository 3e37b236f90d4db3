//! Built-in demo data for medql.
//!
//! A deterministic synthetic benchmark shaped like GMAI-MMBench VAL (same
//! clinical VQA tasks, departments, perceptual granularities, modalities and
//! roughly the same number of items per combination of them), plus a set of
//! simulated models whose predictions are free text in the styles real
//! vision-language models produce: bare letters, "B. option text", long
//! explanations, ambiguous answers naming two letters, refusals, empty cells
//! and assorted noise.
//!
//! The shape tables below (names, item counts per combination, short
//! category labels, option-count mix per task) are facts taken from the
//! public GMAI-MMBench VAL split. All question and prediction texts are
//! produced by the templates in this file; none is copied from the real data.
//! Everything is a pure function of `(n_items, n_models, seed)`.

/// One multiple-choice benchmark item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoItem {
    pub index: i64,
    pub question: String,
    /// 2..=5 option texts, for the letters A, B, ... in order.
    pub options: Vec<String>,
    pub answer: char,
    pub category: String,
    pub task: String,
    pub department: Option<String>,
    pub granularity: String,
    pub modality: String,
    pub original_task: String,
}

/// One simulated model and its free-text predictions.
///
/// Predictions are in item order; an item with no row at all is unanswered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoModel {
    pub name: String,
    pub predictions: Vec<(i64, Option<String>)>,
}

/// A demo benchmark: items plus model predictions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoData {
    pub dataset: String,
    pub items: Vec<DemoItem>,
    pub models: Vec<DemoModel>,
}

const DATASET_NAME: &str = "GMAI-MMBench_DEMO";
const DEFAULT_N_ITEMS: usize = 4550;
const DEFAULT_N_MODELS: usize = 4;
const DEFAULT_SEED: u64 = 20241128;

/// The default demo: 4,550 items (the size of GMAI-MMBench VAL) and the four
/// named simulated models.
pub fn demo() -> DemoData {
    generate(DEFAULT_N_ITEMS, DEFAULT_N_MODELS, DEFAULT_SEED)
}

/// Generates `n_items` items and `n_models` models from `seed`.
///
/// The first models are the named ones (`demo-generalist-7b`,
/// `demo-medical-13b`, `demo-verbose-7b`, `demo-small-2b`); further models are
/// called `demo-model-NN` and get random skill profiles and answer styles.
/// Each model's predictions depend only on the items, the seed and the
/// model's position, so asking for more models never changes earlier ones.
pub fn generate(n_items: usize, n_models: usize, seed: u64) -> DemoData {
    generate_with_truth(n_items, n_models, seed).0
}

// ---------------------------------------------------------------------------
// Shape tables (facts about GMAI-MMBench VAL)
// ---------------------------------------------------------------------------

/// The 18 clinical VQA tasks.
const TASKS: [&str; 18] = [
    "Attribute Recognition",
    "Blood Vessels Recognition",
    "Bone",
    "Cell Recognition",
    "Counting",
    "Disease Diagnosis",
    "Image Quality Grading",
    "Microorganism Recognition",
    "Muscle",
    "Nervous Tissue",
    "Organ Recognition - Abdomen",
    "Organ Recognition - Head and Neck",
    "Organ Recognition - Pelvic",
    "Organ Recognition - Thorax",
    "Severity Grading",
    "Surgeon Action Recognition",
    "Surgical Instrument Recognition",
    "Surgical Workflow Recognition",
];

/// The 18 departments (VAL also has 75 items without one).
const DEPARTMENTS: [&str; 18] = [
    "Cardiovascular Surgery",
    "Dermatology",
    "Endocrinology",
    "Gastroenterology and Hepatology",
    "General Surgery",
    "Hematology",
    "Infectious Diseases",
    "Laboratory Medicine and Pathology",
    "Nephrology and Hypertension",
    "Neurosurgery",
    "Obstetrics and Gynecology",
    "Oncology (Medical)",
    "Ophthalmology",
    "Orthopedic Surgery",
    "Otolaryngology (ENT)/Head and Neck Surgery",
    "Pulmonary Medicine",
    "Sports Medicine",
    "Urology",
];

const GRANULARITIES: [&str; 4] = ["Image level", "Box level", "Mask level", "Contour level"];

/// The 24 VAL modalities, most frequent first.
const MODALITIES: [&str; 24] = [
    "CT",
    "MRI",
    "Endoscopy",
    "Histopathology",
    "Fundus Photography",
    "X-ray",
    "Microscopy",
    "Dermoscopy",
    "UltraSound",
    "OCT",
    "Infrared Reflectance (IR) imaging",
    "T2 weighted MRI",
    "Colposcopy",
    "Adaptive Optics Ophthalmoscopy",
    "FLAIR MRI",
    "DCE MRI",
    "T1Gd MRI",
    "T1 weighted MRI",
    "Texture Characterization of Bone Radiograph",
    "ADC MRI",
    "Opposed-phase MRI",
    "Gadolinium MRI",
    "SWI MRI",
    "In-phase MRI",
];

const ORIGINAL_TASKS: [&str; 4] = ["CLS_2D", "DET_2D", "SEG_2D", "SEG_3D"];

/// (task, department or `NO_DEPT`, granularity, modality, original task,
/// number of VAL items), in the order the combinations first appear in VAL.
type Combo = (u8, u8, u8, u8, u8, u16);
const NO_DEPT: u8 = 255;

#[rustfmt::skip]
const COMBOS: [Combo; 256] = [
    (5, 3, 1, 2, 1, 15), (5, 15, 1, 5, 1, 60), (5, 11, 1, 2, 1, 5), (5, 11, 1, 5, 1, 5),
    (5, 13, 1, 5, 1, 5), (5, 0, 1, 5, 1, 5), (16, 4, 1, 2, 1, 35), (3, 5, 1, 6, 1, 15),
    (6, 4, 1, 2, 1, 35), (15, 17, 1, 2, 1, 70), (15, 4, 1, 2, 1, 45), (3, 7, 2, 6, 2, 10),
    (3, 7, 3, 6, 2, 10), (3, 12, 3, 9, 2, 5), (3, 12, 2, 9, 2, 5), (3, 7, 3, 3, 2, 15),
    (3, 7, 2, 3, 2, 15), (3, 5, 2, 3, 2, 5), (3, 5, 3, 3, 2, 5), (3, 11, 3, 3, 2, 5),
    (3, 11, 2, 3, 2, 5), (3, 5, 3, 6, 2, 5), (3, 5, 2, 6, 2, 5), (3, 12, 2, 13, 2, 5),
    (3, 12, 3, 13, 2, 5), (13, 0, 3, 5, 2, 5), (13, 0, 2, 5, 2, 5), (13, 15, 2, 0, 2, 5),
    (13, 15, 3, 0, 2, 5), (1, 12, 2, 10, 2, 10), (1, 12, 3, 10, 2, 10), (1, 12, 3, 4, 2, 5),
    (1, 12, 2, 4, 2, 5), (2, 13, 2, 5, 2, 5), (2, 13, 3, 5, 2, 5), (11, 12, 3, 4, 2, 10),
    (11, 12, 2, 4, 2, 10), (16, 4, 3, 2, 2, 102), (16, 4, 2, 2, 2, 102), (5, 1, 2, 7, 2, 35),
    (5, 1, 3, 7, 2, 35), (5, 2, 3, 8, 2, 5), (5, 2, 2, 8, 2, 5), (5, 11, 3, 2, 2, 5),
    (5, 11, 2, 2, 2, 5), (5, 3, 2, 2, 2, 15), (5, 3, 3, 2, 2, 15), (5, 12, 3, 4, 2, 25),
    (5, 12, 2, 4, 2, 25), (5, 15, 2, 5, 2, 50), (5, 15, 3, 5, 2, 50), (5, 14, 3, 0, 2, 5),
    (5, 14, 2, 0, 2, 5), (5, 11, 3, 8, 2, 5), (5, 11, 2, 8, 2, 5), (5, 7, 3, 3, 2, 5),
    (5, 7, 2, 3, 2, 5), (5, 12, 3, 9, 2, 5), (5, 12, 2, 9, 2, 5), (5, 13, 2, 5, 2, 5),
    (5, 13, 3, 5, 2, 5), (5, 11, 2, 3, 2, 10), (5, 11, 3, 3, 2, 10), (5, 0, 2, 5, 2, 5),
    (5, 0, 3, 5, 2, 5), (10, 3, 3, 1, 2, 15), (10, 3, 2, 1, 2, 15), (10, 3, 2, 2, 2, 15),
    (10, 3, 3, 2, 2, 15), (10, 8, 2, 2, 2, 15), (10, 8, 3, 2, 2, 15), (10, 3, 2, 3, 2, 5),
    (10, 3, 3, 3, 2, 5), (9, 12, 3, 9, 2, 15), (9, 12, 2, 9, 2, 15), (9, 9, 2, 8, 2, 5),
    (9, 9, 3, 8, 2, 5), (7, 7, 3, 6, 2, 5), (7, 7, 2, 6, 2, 5), (14, 11, 3, 6, 2, 20),
    (14, 11, 2, 6, 2, 20), (0, 4, 3, 2, 2, 5), (0, 4, 2, 2, 2, 5), (12, 3, 3, 0, 3, 10),
    (12, 3, 2, 0, 3, 10), (12, 17, 3, 0, 3, 8), (12, 17, 2, 0, 3, 8), (12, 17, 2, 1, 3, 6),
    (12, 17, 3, 1, 3, 6), (12, 17, 3, 19, 3, 1), (12, 17, 2, 19, 3, 1), (12, 10, 3, 0, 3, 5),
    (12, 10, 2, 0, 3, 5), (5, 15, 3, 0, 3, 40), (5, 15, 2, 0, 3, 40), (5, 3, 2, 0, 3, 9),
    (5, 3, 3, 0, 3, 9), (5, 0, 3, 1, 3, 10), (5, 0, 2, 1, 3, 10), (5, 11, 3, 19, 3, 3),
    (5, 11, 2, 19, 3, 3), (5, 11, 2, 14, 3, 5), (5, 11, 3, 14, 3, 5), (5, 11, 3, 15, 3, 5),
    (5, 11, 2, 15, 3, 5), (5, 9, 3, 1, 3, 3), (5, 9, 2, 1, 3, 3), (5, 9, 3, 21, 3, 2),
    (5, 9, 2, 21, 3, 2), (5, 13, 3, 0, 3, 5), (5, 13, 2, 0, 3, 5), (5, 11, 2, 16, 3, 5),
    (5, 11, 3, 16, 3, 5), (5, 11, 3, 1, 3, 7), (5, 11, 2, 1, 3, 7), (5, 11, 2, 0, 3, 15),
    (5, 11, 3, 0, 3, 15), (5, 8, 2, 0, 3, 10), (5, 8, 3, 0, 3, 10), (5, 11, 3, 11, 3, 4),
    (5, 11, 2, 11, 3, 4), (5, 3, 3, 17, 3, 1), (5, 3, 2, 17, 3, 1), (5, 11, 2, 22, 3, 1),
    (5, 11, 3, 22, 3, 1), (5, 14, 2, 8, 3, 5), (5, 14, 3, 8, 3, 5), (8, 16, 3, 0, 3, 25),
    (8, 16, 2, 0, 3, 25), (11, 14, 3, 0, 3, 40), (11, 14, 2, 0, 3, 40), (11, 13, 3, 0, 3, 10),
    (11, 13, 2, 0, 3, 10), (11, 2, 3, 0, 3, 5), (11, 2, 2, 0, 3, 5), (11, 12, 3, 0, 3, 5),
    (11, 12, 2, 0, 3, 5), (11, 14, 3, 11, 3, 5), (11, 14, 2, 11, 3, 5), (13, 15, 2, 0, 3, 35),
    (13, 15, 3, 0, 3, 35), (13, 13, 3, 0, 3, 5), (13, 13, 2, 0, 3, 5), (13, 0, 3, 0, 3, 7),
    (13, 0, 2, 0, 3, 7), (13, 0, 3, 1, 3, 13), (13, 0, 2, 1, 3, 13), (13, 14, 3, 1, 3, 3),
    (13, 14, 2, 1, 3, 3), (13, 14, 3, 0, 3, 2), (13, 14, 2, 0, 3, 2), (13, 5, 3, 1, 3, 3),
    (13, 5, 2, 1, 3, 3), (13, 5, 3, 0, 3, 2), (13, 5, 2, 0, 3, 2), (13, 11, 3, 0, 3, 5),
    (13, 11, 2, 0, 3, 5), (10, 3, 2, 0, 3, 15), (10, 3, 3, 0, 3, 15), (10, 3, 3, 1, 3, 15),
    (10, 3, 2, 1, 3, 15), (10, 3, 3, 17, 3, 2), (10, 3, 2, 17, 3, 2), (10, 3, 3, 11, 3, 3),
    (10, 3, 2, 11, 3, 3), (10, 2, 2, 0, 3, 5), (10, 2, 3, 0, 3, 5), (10, 4, 3, 11, 3, 1),
    (10, 4, 2, 11, 3, 1), (10, 4, 3, 17, 3, 2), (10, 4, 2, 17, 3, 2), (10, 4, 3, 1, 3, 2),
    (10, 4, 2, 1, 3, 2), (10, 8, 3, 0, 3, 5), (10, 8, 2, 0, 3, 5), (1, 5, 3, 1, 3, 6),
    (1, 5, 2, 1, 3, 6), (1, 5, 3, 0, 3, 39), (1, 5, 2, 0, 3, 39), (2, 13, 2, 0, 3, 55),
    (2, 13, 3, 0, 3, 55), (2, 13, 3, 20, 3, 4), (2, 13, 2, 20, 3, 4), (2, 13, 3, 23, 3, 1),
    (2, 13, 2, 23, 3, 1), (0, 12, 0, 4, 0, 30), (0, 7, 0, 6, 0, 20), (0, 255, 0, 10, 0, 55),
    (0, 255, 0, 5, 0, 20), (12, 10, 0, 8, 0, 10), (12, 17, 0, 8, 0, 5), (17, 4, 0, 2, 0, 65),
    (17, 14, 0, 2, 0, 5), (6, 12, 0, 4, 0, 15), (5, 7, 0, 3, 0, 87), (5, 16, 0, 1, 0, 270),
    (5, 12, 0, 9, 0, 40), (5, 3, 0, 1, 0, 45), (5, 4, 0, 0, 0, 20), (5, 13, 0, 18, 0, 10),
    (5, 3, 0, 0, 0, 50), (5, 15, 0, 5, 0, 40), (5, 6, 0, 3, 0, 10), (5, 15, 0, 0, 0, 30),
    (5, 5, 0, 3, 0, 20), (5, 13, 0, 1, 0, 105), (5, 1, 0, 7, 0, 95), (5, 12, 0, 4, 0, 200),
    (5, 10, 0, 5, 0, 20), (5, 2, 0, 0, 0, 5), (5, 6, 0, 7, 0, 25), (5, 17, 0, 6, 0, 40),
    (5, 17, 0, 1, 0, 15), (5, 9, 0, 1, 0, 35), (5, 13, 0, 0, 0, 15), (5, 5, 0, 6, 0, 5),
    (5, 2, 0, 8, 0, 5), (5, 10, 0, 1, 0, 10), (5, 4, 0, 1, 0, 25), (5, 11, 0, 5, 0, 15),
    (5, 11, 0, 1, 0, 15), (5, 3, 0, 2, 0, 40), (5, 10, 0, 12, 0, 15), (5, 11, 0, 0, 0, 30),
    (5, 5, 0, 0, 0, 5), (5, 11, 0, 2, 0, 10), (5, 5, 0, 1, 0, 5), (5, 8, 0, 0, 0, 5),
    (5, 17, 0, 0, 0, 20), (5, 14, 0, 1, 0, 5), (5, 12, 0, 6, 0, 10), (5, 10, 0, 0, 0, 10),
    (5, 8, 0, 1, 0, 5), (5, 2, 0, 1, 0, 5), (11, 2, 0, 8, 0, 5), (7, 5, 0, 3, 0, 75),
    (7, 5, 0, 6, 0, 15), (7, 7, 0, 3, 0, 30), (7, 3, 0, 3, 0, 5), (4, 5, 0, 3, 0, 188),
    (10, 3, 0, 8, 0, 20), (10, 3, 0, 2, 0, 15), (10, 4, 0, 8, 0, 5), (10, 8, 0, 8, 0, 5),
    (1, 12, 0, 9, 0, 5), (1, 5, 0, 8, 0, 10), (2, 13, 0, 5, 0, 45), (14, 7, 0, 3, 0, 50),
    (14, 1, 0, 7, 0, 20), (14, 11, 0, 3, 0, 59), (14, 16, 0, 5, 0, 25), (14, 11, 0, 6, 0, 18),
    (14, 12, 0, 4, 0, 84), (14, 15, 0, 5, 0, 15), (14, 3, 0, 3, 0, 10), (14, 12, 0, 6, 0, 15),
];

/// Short category labels per (task, modality); the Counting labels are
/// generated (`the number of lymphocytes:N`).
#[rustfmt::skip]
const LABELS: &[(u8, u8, &[&str])] = &[
    (0, 2, &["fat"]),
    (0, 4, &["oculus dexter", "oculus sinister", "transverse eye axis", "longitudinal eye axis",
        "left macula centered eye fundus images", "right macula centered eye fundus images"]),
    (0, 5, &["direction: towards up", "direction: towards down", "direction: towards left",
        "direction: towards right"]),
    (0, 6, &["fusiform; fuse shaped cell contours and nucleus;separated cells",
        "cobblestone; well defined cell contours and cell wall; hexagonal shape; homogeneous cytoplasm; tightly packed",
        "mixed; two or more of afore mentioned classes(fusiform, epithelioid,cobblestone)"]),
    (0, 10, &["no glasses", "gender: male", "with glasses", "gender: female", "eye state: open",
        "eye state: closed", "lighting conditions: bad", "lighting conditions: good"]),
    (1, 0, &["iliac vein", "renal vein", "iliac artery", "liver vessel", "renal artery",
        "inferior vena cava", "portal and splenic veins", "aorta"]),
    (1, 1, &["ascending aorta", "aorta"]),
    (1, 4, &["retinal vessel"]),
    (1, 8, &["portal vein", "inferior vena cava"]),
    (1, 9, &["retinal vessel"]),
    (1, 10, &["retinal vein", "retinal artery"]),
    (2, 0, &["hip", "rib", "femur", "sacrum", "humerus", "scapula", "clavicle", "lumbar spine"]),
    (2, 5, &["clavicles", "ulna", "radius", "metacarpophalangeal", "distal interphalangeal",
        "middle interphalangeal", "proximal interphalangeal", "first metacarpophalangeal"]),
    (2, 20, &["intervertebral disc"]),
    (2, 23, &["intervertebral disc"]),
    (3, 3, &["dead cell", "epithelial cell", "neoplastic cell", "soft tissue cell",
        "inflammatory cell"]),
    (3, 6, &["cytoplasm", "cell nucleus", "erythrocytes", "platelet", "red blood cell",
        "white blood cell"]),
    (3, 9, &["retinal pigmented epithelium cell"]),
    (3, 13, &["photoreceptor cell"]),
    (4, 3, &[]),
    (5, 0, &["lung nodule", "lung tumor", "kidney cyst", "lung cancer", "kidney tumor",
        "adrenal tumor", "COVID-19 lesion", "lung infections"]),
    (5, 1, &["prostate cancer", "myocardial edema", "myocardial infarction", "multiple sclerosis",
        "ascites", "bowel mass", "brain edema", "hip hematoma"]),
    (5, 2, &["polyp", "barrett's esophagus", "esophageal cancer", "high grade dysplasia",
        "neplasia", "esophagitis", "gastric metaplasia", "ulcerative colitis"]),
    (5, 3, &["breast tumor", "necrotic tissue", "colorectal adenocarcinoma", "HER2 negative",
        "HER2 positive", "invasive carcinoma", "benign lung tissues", "follicular lymphoma"]),
    (5, 4, &["microaneurysms", "retinal hemorrhages", "diabetic retinopathy",
        "retinal hard exudates", "retinal soft exudates", "myopia", "cataract", "fibrosis"]),
    (5, 5, &["pneumothorax", "emphysema", "atelectasis", "cardiomegaly", "pleural effusion",
        "pleural thickening", "pulmonary fibrosis", "diffuse pulmonary nodule"]),
    (5, 6, &["normal sperm head", "normal sperm tail", "abnormal sperm head",
        "abnormal sperm tail", "normal corneal nerve", "normal sperm vacuole",
        "normal sperm acrosome", "abnormal corneal nerve"]),
    (5, 7, &["foot ulcer", "melanocytic lesions", "streaks skin lesion", "globules skin lesion",
        "milia like cyst skin lesion", "pigment network skin lesion",
        "negative network skin lesion", "nevus"]),
    (5, 8, &["thyroid nodule", "breast cancer", "hypoxic ischemic encephalopathy"]),
    (5, 9, &["diabetic macular edema", "macular hole", "diabetic retinopathy",
        "central serous retinopathy", "choroidal neovascularization",
        "age-related macular degeneration", "mixed leakage diabetic macular edema",
        "diffuse leakage diabetic macular edema"]),
    (5, 11, &["prostate tumor"]),
    (5, 12, &["completely ectocervical and fully visible"]),
    (5, 14, &["glioblastoma", "peritumoral edema"]),
    (5, 15, &["breast tumor"]),
    (5, 16, &["neuroblastoma"]),
    (5, 17, &["liver tumor"]),
    (5, 18, &["healthy bone", "osteoporotic bone"]),
    (5, 19, &["glioblastoma", "prostate tumor", "peritumoral edema"]),
    (5, 21, &["multiple sclerosis"]),
    (5, 22, &["peritumoral edema"]),
    (6, 2, &["blur", "bubbles", "saturation", "specularity", "low contrast", "blood artifacts",
        "instrument artifacts"]),
    (6, 4, &["outlier image", "image with bad quality", "image with good quality"]),
    (7, 3, &["blast", "mucus", "debris", "adipose", "basophil", "myelocyte", "hairy cell",
        "lymphocyte"]),
    (7, 6, &["spirochaete", "monocyte", "eosinophil", "neutrophil"]),
    (8, 0, &["iliopsoas", "gluteus medius", "gluteus maximus", "gluteus minimus",
        "autochthonous muscles"]),
    (9, 8, &["brachial plexus"]),
    (9, 9, &["choroidal layer", "retinal nerve fiber layer", "ganglion cell-inner plexiform layer"]),
    (10, 0, &["kidney", "adrenal gland", "sigmoid colon", "small intestine", "pancreas",
        "gallbladder", "duodenum"]),
    (10, 1, &["stomach", "large intestine", "small intestine", "duodenum", "pancreas",
        "gallbladder", "spleen"]),
    (10, 2, &["liver", "gallbladder", "kidney boundary", "small intestine",
        "fascia covered kidney parenchyma", "fascia uncovered kidney parenchyma", "cecum",
        "z line"]),
    (10, 3, &["colonoscopy tissue"]),
    (10, 8, &["liver", "kidney", "spleen", "pancreas", "gallbladder", "common bile duct"]),
    (10, 11, &["liver", "spleen"]),
    (10, 17, &["liver", "spleen"]),
    (11, 0, &["eye", "trachea", "mandible", "esophagus", "brain stem", "middle ear",
        "oral cavity", "spinal cord"]),
    (11, 4, &["optic cup", "optic disc"]),
    (11, 8, &["thyroid"]),
    (11, 11, &["submandibular gland"]),
    (12, 0, &["colon", "rectum", "uterus", "testicle", "bladder"]),
    (12, 1, &["prostate", "bladder"]),
    (12, 8, &["ovary", "uterus", "bladder"]),
    (12, 19, &["prostate"]),
    (13, 0, &["lung", "heart", "airway", "breast", "chest wall", "lower lobe", "upper lobe",
        "middle lobe"]),
    (13, 1, &["ventricle", "myocardium", "atrium", "esophagus", "pulmonary artery"]),
    (13, 5, &["heart"]),
    (14, 3, &["benign", "malignant", "viable tumor", "necrotic tumor", "columnar normal",
        "mild dysplastic", "severe dysplastic", "superficial normal"]),
    (14, 4, &["non glaucoma", "early glaucoma", "advanced glaucoma", "mid advanced glaucoma",
        "level 0 diabetic retinopathy", "level 1 diabetic retinopathy",
        "level 2 diabetic retinopathy", "level 3 diabetic retinopathy"]),
    (14, 5, &["grade 4 (severe)", "grade 2 (minimal)", "grade 1 (doubtful)", "grade 3 (moderate)",
        "grade 0 (healthy knee image)", "typical appearance of COVID-19",
        "atypical appearance of COVID-19", "indeterminate appearance of COVID-19"]),
    (14, 6, &["breast cancer type: benign", "breast cancer type: normal",
        "breast cancer type: in situ carcinoma", "breast cancer type: invasive ductal carcinoma",
        "benign tumor", "low-grade squamous intraepithelial lesion",
        "high-grade squamous intraepithelial lesion",
        "manual grading for corneal nerve tortuosity: low"]),
    (14, 7, &["benign lesion", "benign melanoma", "malignant lesion", "malignant melanoma"]),
    (15, 2, &["sucking blood", "sucking smoke", "cutting thread", "cutting tissue",
        "passing needle", "pulling tissue", "clipping tissue", "bagging prostate"]),
    (16, 2, &["hook", "grasper", "scissors", "irrigator", "specimen bag", "instrument shaft",
        "clip", "jaws"]),
    (17, 2, &["durotomy", "sellotomy", "haemostasis", "dural sealant", "tumour excision",
        "debris clearance", "dyed lifted polyps", "fat graft placement"]),
];

/// Items with 2, 3, 4, 5 options per task in VAL.
#[rustfmt::skip]
const OPTION_COUNT_WEIGHTS: [[u16; 4]; 18] = [
    [70, 15, 45, 5], // Attribute Recognition
    [0, 0, 77, 58], // Blood Vessels Recognition
    [0, 0, 117, 58], // Bone
    [0, 0, 65, 50], // Cell Recognition
    [0, 0, 188, 0], // Counting
    [174, 70, 1563, 315], // Disease Diagnosis
    [10, 5, 15, 20], // Image Quality Grading
    [0, 0, 129, 6], // Microorganism Recognition
    [0, 0, 28, 22], // Muscle
    [0, 0, 19, 21], // Nervous Tissue
    [0, 0, 147, 98], // Organ Recognition - Abdomen
    [0, 0, 75, 80], // Organ Recognition - Head and Neck
    [0, 0, 39, 36], // Organ Recognition - Pelvic
    [0, 0, 90, 80], // Organ Recognition - Thorax
    [50, 75, 211, 0], // Severity Grading
    [0, 0, 68, 47], // Surgeon Action Recognition
    [0, 0, 129, 110], // Surgical Instrument Recognition
    [0, 0, 70, 0], // Surgical Workflow Recognition
];

/// What the questions of each task ask for (same order as `TASKS`).
const TASK_NOUNS: [&str; 18] = [
    "attribute",
    "blood vessel",
    "bone",
    "cell type",
    "count",
    "abnormality",
    "image quality issue",
    "cell or microorganism",
    "muscle",
    "nervous tissue structure",
    "organ",
    "anatomical structure",
    "organ",
    "structure",
    "severity grade",
    "surgical action",
    "surgical instrument",
    "surgical phase",
];

const T_ATTRIBUTE: usize = 0;
const T_COUNTING: usize = 4;
const T_DIAGNOSIS: usize = 5;
const T_QUALITY: usize = 6;
const T_SEVERITY: usize = 14;
const T_ACTION: usize = 15;
const T_WORKFLOW: usize = 17;

const G_IMAGE: usize = 0;
const G_BOX: usize = 1;
const G_MASK: usize = 2;

// ---------------------------------------------------------------------------
// Deterministic PRNG (xoshiro256** seeded through SplitMix64)
// ---------------------------------------------------------------------------

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut st = seed;
        let s = [
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
        ];
        Rng { s }
    }

    /// An independent stream for `(seed, stream)`.
    pub(crate) fn stream(seed: u64, stream: u64) -> Rng {
        let mut st = seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let mixed = splitmix64(&mut st);
        Rng::new(mixed ^ stream.rotate_left(17))
    }

    fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Approximately standard normal (Irwin-Hall, 12 uniforms): plain
    /// arithmetic only, so results do not depend on the platform's libm.
    pub(crate) fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Index drawn with probability proportional to `weights`.
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------

/// What the generator knows about an item beyond its public fields.
struct ItemMeta {
    task: usize,
    modality: usize,
    granularity: usize,
    correct: usize,
    /// Shared difficulty: hard items are hard for every model.
    difficulty: f64,
}

/// Items per combination for `n` items, by largest remainder, so that the
/// default size reproduces the VAL counts exactly.
fn allocate(n: usize) -> Vec<usize> {
    let total: u64 = COMBOS.iter().map(|c| u64::from(c.5)).sum();
    let mut alloc = Vec::with_capacity(COMBOS.len());
    let mut rest = Vec::with_capacity(COMBOS.len());
    for (i, c) in COMBOS.iter().enumerate() {
        let q = u64::from(c.5) * n as u64;
        alloc.push((q / total) as usize);
        rest.push((q % total, i));
    }
    let assigned: usize = alloc.iter().sum();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rest.iter().take(n - assigned) {
        alloc[i] += 1;
    }
    alloc
}

/// Label pools for one (task, modality): the labels of the pair itself, then
/// labels of the same task under other modalities (distractor fallback).
struct Pools {
    primary: Vec<&'static str>,
    secondary: Vec<&'static str>,
}

fn pools_for(task: usize, modality: usize) -> Pools {
    let mut primary: Vec<&'static str> = Vec::new();
    let mut secondary: Vec<&'static str> = Vec::new();
    for &(t, m, labels) in LABELS {
        if usize::from(t) == task && usize::from(m) == modality {
            primary.extend_from_slice(labels);
        }
    }
    for &(t, m, labels) in LABELS {
        if usize::from(t) == task && usize::from(m) != modality {
            for l in labels {
                if !primary.contains(l) && !secondary.contains(l) {
                    secondary.push(l);
                }
            }
        }
    }
    Pools { primary, secondary }
}

fn all_labels() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for &(_, _, labels) in LABELS {
        for l in labels {
            if !all.contains(l) {
                all.push(l);
            }
        }
    }
    all
}

/// Adds distinct labels from `pool` to `chosen` until it has `k` entries.
fn fill_from(rng: &mut Rng, pool: &[&'static str], chosen: &mut Vec<&'static str>, k: usize) {
    if chosen.len() >= k {
        return;
    }
    let mut candidates: Vec<&'static str> = pool
        .iter()
        .copied()
        .filter(|l| !chosen.contains(l))
        .collect();
    while chosen.len() < k && !candidates.is_empty() {
        let i = rng.below(candidates.len());
        chosen.push(candidates.swap_remove(i));
    }
}

fn counting_label(n: usize) -> String {
    format!("the number of lymphocytes:{n}")
}

fn question(rng: &mut Rng, task: usize, gran: usize, modality: &str) -> String {
    let noun = TASK_NOUNS[task];
    if task == T_COUNTING {
        return match rng.below(3) {
            0 => format!("How many lymphocytes can be counted in this {modality} image?"),
            1 => "Count the lymphocytes visible in the image. Which option gives the right number?"
                .to_string(),
            _ => format!("Which option states the number of lymphocytes in this {modality} image?"),
        };
    }
    match gran {
        G_IMAGE => match (task, rng.below(4)) {
            (T_SEVERITY, 0) => {
                format!("How severe is the condition shown in this {modality} image?")
            }
            (T_SEVERITY, 1) => format!("Which severity grade best fits this {modality} image?"),
            (T_QUALITY, 0 | 1) => {
                format!("How would you rate the quality of this {modality} image?")
            }
            (T_WORKFLOW, 0 | 1) => {
                format!("Which phase of the operation does this {modality} frame belong to?")
            }
            (T_ACTION, 0) => format!("What is the surgeon doing in this {modality} frame?"),
            (T_ATTRIBUTE, 0) => {
                format!("Which attribute describes the subject of this {modality} image?")
            }
            (T_DIAGNOSIS, 0) => format!("What abnormality is visible in this {modality} scan?"),
            (T_DIAGNOSIS, 1) => {
                format!("Based on this {modality} image, what is the most likely diagnosis?")
            }
            (_, 0) => format!("What {noun} is shown in this {modality} image?"),
            (_, 1) => {
                format!("Based on this {modality} image, which {noun} is most likely present?")
            }
            (_, 2) => format!(
                "Examine the {modality} image and choose the option that best describes the {noun}."
            ),
            _ => format!("Given the {modality} image, select the most appropriate {noun}."),
        },
        G_BOX => match rng.below(3) {
            0 => format!(
                "Focus on the box-highlighted area of this {modality} image. Which {noun} is shown?"
            ),
            1 => format!(
                "A bounding box marks a region of this {modality} image. What {noun} does it contain?"
            ),
            _ => format!(
                "Look at the region inside the rectangle in the {modality} image. Which option best describes the {noun} there?"
            ),
        },
        G_MASK => match rng.below(3) {
            0 => format!(
                "A region of this {modality} image is covered by a colored mask. Which {noun} does it correspond to?"
            ),
            1 => format!("Which {noun} is highlighted by the mask in the {modality} image?"),
            _ => format!(
                "Identify the {noun} indicated by the shaded overlay in this {modality} image."
            ),
        },
        _ => match rng.below(3) {
            0 => format!("Which {noun} is outlined by the contour in this {modality} image?"),
            1 => format!(
                "A contour line surrounds a structure in this {modality} image. Which {noun} is it?"
            ),
            _ => format!(
                "Look at the outlined area of the {modality} image. What {noun} does the outline enclose?"
            ),
        },
    }
}

fn generate_items(n_items: usize, seed: u64) -> (Vec<DemoItem>, Vec<ItemMeta>) {
    let mut rng = Rng::stream(seed, 0x17E5);
    let global = all_labels();
    let alloc = allocate(n_items);
    let mut items = Vec::with_capacity(n_items);
    let mut metas = Vec::with_capacity(n_items);
    let mut chosen: Vec<&'static str> = Vec::with_capacity(5);
    for (combo, &count) in COMBOS.iter().zip(&alloc) {
        if count == 0 {
            continue;
        }
        let (t, d, g, m, o, _) = *combo;
        let (task, gran, modality) = (usize::from(t), usize::from(g), usize::from(m));
        let pools = pools_for(task, modality);
        let k_weights: Vec<f64> = OPTION_COUNT_WEIGHTS[task]
            .iter()
            .map(|&w| f64::from(w))
            .collect();
        let department = if d == NO_DEPT {
            None
        } else {
            Some(DEPARTMENTS[usize::from(d)].to_string())
        };
        for _ in 0..count {
            let k = 2 + rng.weighted(&k_weights);
            let correct = rng.below(k);
            let options: Vec<String> = if task == T_COUNTING {
                let mut numbers: Vec<usize> = Vec::with_capacity(k);
                while numbers.len() < k {
                    let x = rng.below(44);
                    if !numbers.contains(&x) {
                        numbers.push(x);
                    }
                }
                numbers.into_iter().map(counting_label).collect()
            } else {
                chosen.clear();
                chosen.push(*rng.pick(&pools.primary));
                fill_from(&mut rng, &pools.primary, &mut chosen, k);
                fill_from(&mut rng, &pools.secondary, &mut chosen, k);
                fill_from(&mut rng, &global, &mut chosen, k);
                // `chosen[0]` is the correct label; the distractors are
                // already in random order.
                chosen.swap(0, correct);
                chosen.iter().map(|s| s.to_string()).collect()
            };
            let mut category = options[correct].clone();
            if rng.chance(0.004) && !category.ends_with('.') {
                category.push('.');
            }
            let index = items.len() as i64;
            items.push(DemoItem {
                index,
                question: question(&mut rng, task, gran, MODALITIES[modality]),
                answer: letter(correct),
                options,
                category,
                task: TASKS[task].to_string(),
                department: department.clone(),
                granularity: GRANULARITIES[gran].to_string(),
                modality: MODALITIES[modality].to_string(),
                original_task: ORIGINAL_TASKS[usize::from(o)].to_string(),
            });
            metas.push(ItemMeta {
                task,
                modality,
                granularity: gran,
                correct,
                difficulty: 0.6 * rng.normal(),
            });
        }
    }
    (items, metas)
}

fn letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

// ---------------------------------------------------------------------------
// Simulated models
// ---------------------------------------------------------------------------

/// How a prediction is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `B`
    Letter,
    /// `B. option text`
    LetterText,
    /// `(B)`
    Paren,
    /// `The answer is B.`
    AnswerIs,
    /// Several sentences, the chosen letter near the end.
    Explanation,
    /// An explanation naming two letters.
    TwoLetters,
    /// The option text without any letter.
    TextOnly,
    /// A refusal or "cannot determine".
    Refusal,
    /// An empty cell.
    Empty,
    /// Lowercase letters, markdown, odd punctuation.
    Noise,
}

const STYLES: [Style; 10] = [
    Style::Letter,
    Style::LetterText,
    Style::Paren,
    Style::AnswerIs,
    Style::Explanation,
    Style::TwoLetters,
    Style::TextOnly,
    Style::Refusal,
    Style::Empty,
    Style::Noise,
];
const N_STYLES: usize = STYLES.len();
const REFUSAL_STYLE: usize = 7;

const NAMED_MODELS: [&str; 4] = [
    "demo-generalist-7b",
    "demo-medical-13b",
    "demo-verbose-7b",
    "demo-small-2b",
];

/// A model's skill (logit offsets by slice) and writing habits.
struct Profile {
    base: f64,
    task: [f64; 18],
    modality: [f64; 24],
    granularity: [f64; 4],
    styles: [f64; N_STYLES],
    /// Probability that an item gets no row at all.
    missing: f64,
}

impl Profile {
    fn new(base: f64, styles: [f64; N_STYLES]) -> Profile {
        Profile {
            base,
            task: [0.0; 18],
            modality: [0.0; 24],
            granularity: [0.0; 4],
            styles,
            missing: 0.0,
        }
    }

    fn task(mut self, name: &str, delta: f64) -> Profile {
        self.task[position(&TASKS, name)] += delta;
        self
    }

    /// Adds `delta` to every modality whose name contains `pattern`.
    fn modality(mut self, pattern: &str, delta: f64) -> Profile {
        for (i, m) in MODALITIES.iter().enumerate() {
            if m.contains(pattern) {
                self.modality[i] += delta;
            }
        }
        self
    }

    fn granularity(mut self, name: &str, delta: f64) -> Profile {
        self.granularity[position(&GRANULARITIES, name)] += delta;
        self
    }

    /// Probability of choosing the correct option on an item with `k` options.
    fn p_correct(&self, meta: &ItemMeta, k: usize) -> f64 {
        let logit = self.base
            + self.task[meta.task]
            + self.modality[meta.modality]
            + self.granularity[meta.granularity]
            - meta.difficulty;
        let skill = 1.0 / (1.0 + (-logit).exp());
        let chance = 1.0 / k as f64;
        chance + (1.0 - chance) * skill
    }
}

fn position(names: &[&str], name: &str) -> usize {
    names
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("unknown name {name:?}"))
}

/// Profiles of the named models: base logit, then style weights in `STYLES`
/// order (Letter, LetterText, Paren, AnswerIs, Explanation, TwoLetters,
/// TextOnly, Refusal, Empty, Noise), then per-slice skill offsets.
fn named_profile(i: usize) -> Profile {
    match i {
        0 => Profile::new(
            -1.0,
            [0.34, 0.30, 0.05, 0.12, 0.05, 0.02, 0.05, 0.02, 0.01, 0.04],
        )
        .task("Surgical Instrument Recognition", 0.8)
        .task("Organ Recognition - Abdomen", 0.4)
        .task("Organ Recognition - Thorax", 0.4)
        .task("Counting", -1.2)
        .task("Severity Grading", -0.6)
        .task("Cell Recognition", -0.4)
        .modality("Endoscopy", 0.4)
        .modality("Fundus", 0.3)
        .modality("Histopathology", -0.3)
        .granularity("Image level", 0.2)
        .granularity("Box level", -0.2),
        1 => Profile::new(
            -0.9,
            [0.55, 0.20, 0.05, 0.10, 0.03, 0.01, 0.03, 0.005, 0.005, 0.02],
        )
        .task("Disease Diagnosis", 0.7)
        .task("Severity Grading", 0.3)
        .task("Counting", -1.0)
        .task("Surgeon Action Recognition", -0.7)
        .task("Surgical Workflow Recognition", -0.7)
        .task("Surgical Instrument Recognition", -0.4)
        .modality("CT", 0.9)
        .modality("MRI", 0.8)
        .modality("X-ray", 0.3)
        .modality("Endoscopy", -0.4)
        .granularity("Image level", 0.2)
        .granularity("Box level", -1.4),
        2 => Profile::new(
            -0.9,
            [0.02, 0.06, 0.01, 0.12, 0.52, 0.12, 0.07, 0.04, 0.01, 0.03],
        )
        .task("Microorganism Recognition", 0.7)
        .task("Cell Recognition", 0.6)
        .task("Disease Diagnosis", -0.2)
        .task("Organ Recognition - Abdomen", -0.5)
        .modality("Histopathology", 0.5)
        .modality("Microscopy", 0.5)
        .granularity("Contour level", -0.6)
        .granularity("Mask level", 0.1),
        _ => {
            let mut p = Profile::new(
                -2.0,
                [0.25, 0.10, 0.05, 0.04, 0.02, 0.01, 0.15, 0.10, 0.08, 0.20],
            )
            .task("Attribute Recognition", 1.0)
            .task("Image Quality Grading", 0.9)
            .task("Disease Diagnosis", -0.3)
            .task("Organ Recognition - Head and Neck", -0.6)
            .modality("Dermoscopy", 0.8)
            .modality("CT", -0.4)
            .granularity("Image level", 0.4);
            p.missing = 0.008;
            p
        }
    }
}

fn random_profile(rng: &mut Rng) -> Profile {
    let base_styles = named_profile(0).styles;
    let mut styles = [0.0; N_STYLES];
    for (s, b) in styles.iter_mut().zip(base_styles) {
        // A log-normal factor around the generalist's mix.
        *s = b * (0.9 * rng.normal()).exp();
    }
    let mut p = Profile::new(-2.2 + 2.0 * rng.unit(), styles);
    for x in p.task.iter_mut() {
        *x = 0.5 * rng.normal();
    }
    for x in p.modality.iter_mut() {
        *x = 0.4 * rng.normal();
    }
    for x in p.granularity.iter_mut() {
        *x = 0.4 * rng.normal();
    }
    let strong = rng.below(18);
    let weak = (strong + 1 + rng.below(17)) % 18;
    p.task[strong] += 1.2;
    p.task[weak] -= 1.2;
    if rng.chance(0.25) {
        p.missing = 0.002 + 0.008 * rng.unit();
    }
    p
}

/// What the generator knows about one prediction row (read by the tests).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))]
struct PredTruth {
    /// The option the model meant, if it answered at all.
    chosen: Option<char>,
    style: Style,
}

const IR_MODALITY: usize = 10;

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn region_phrase(gran: usize) -> &'static str {
    match gran {
        G_IMAGE => "the depicted area",
        G_BOX => "the boxed region",
        G_MASK => "the masked region",
        _ => "the outlined region",
    }
}

const REFUSALS: [&str; 6] = [
    "Cannot determine the answer",
    "I'm sorry, but I cannot provide a diagnosis based on this image.",
    "The image quality is insufficient to determine the answer.",
    "As an AI, I am not able to interpret medical images. Please consult a qualified clinician.",
    "None of the options can be confirmed from the image.",
    "I am unable to answer this question.",
];
const PEOPLE_REFUSAL: &str = "Sorry, I can't help with images of people yet.";

fn render(
    rng: &mut Rng,
    style: Style,
    chosen: usize,
    item: &DemoItem,
    meta: &ItemMeta,
    s: &mut String,
) -> Option<String> {
    use std::fmt::Write as _;

    let l = letter(chosen);
    // Option texts are looked up only by the styles that quote them.
    let opt = |i: usize| item.options[i].as_str();
    let k = item.options.len();
    let modality = item.modality.as_str();
    s.clear();
    // Writing into a String cannot fail.
    let _ = match style {
        Style::Letter => {
            s.push(l);
            Ok(())
        }
        Style::LetterText => match rng.below(3) {
            0 | 1 => write!(s, "{l}. {}", opt(chosen)),
            _ => write!(s, "{l}: {}", opt(chosen)),
        },
        Style::Paren => match rng.below(3) {
            0 | 1 => write!(s, "({l})"),
            _ => write!(s, "({l}) {}", opt(chosen)),
        },
        Style::AnswerIs => match rng.below(4) {
            0 => write!(s, "The answer is {l}."),
            1 => write!(s, "The correct answer is {l}. {}", opt(chosen)),
            2 => write!(s, "Answer: {l}"),
            _ => write!(s, "The answer is {l}: {}.", opt(chosen)),
        },
        Style::Explanation => {
            let region = region_phrase(meta.granularity);
            let text = opt(chosen);
            s.reserve(240);
            s.push_str(match rng.below(4) {
                0 => "A careful look at the image is needed here. ",
                1 => "Let's analyze the image step by step. ",
                2 => "This question asks about a medical image. ",
                _ => "",
            });
            let _ = match rng.below(3) {
                0 => write!(s, "This image was acquired with {modality}. "),
                1 => write!(
                    s,
                    "In this {modality} image, {region} shows characteristic features. "
                ),
                _ => write!(s, "The modality here is {modality}. "),
            };
            let _ = match rng.below(3) {
                0 => write!(
                    s,
                    "The appearance of {region} is most consistent with {text}. "
                ),
                1 => write!(
                    s,
                    "The visible features, including texture and shape, suggest {text}. "
                ),
                _ => {
                    let other = (chosen + 1 + rng.below(k - 1)) % k;
                    write!(
                        s,
                        "Other options such as {} are less likely given the morphology. ",
                        opt(other)
                    )
                }
            };
            match rng.below(5) {
                0 => write!(s, "Therefore, the correct option is {l}"),
                1 => write!(s, "So the answer is {l}."),
                2 => write!(s, "Hence, option {l} ({text}) is the best match."),
                3 => write!(s, "Based on these observations, I would choose {l}."),
                _ => write!(s, "The final answer is {l}: {text}."),
            }
        }
        Style::TwoLetters => {
            let other = (chosen + 1 + rng.below(k - 1)) % k;
            let o = letter(other);
            let (text, other_text) = (opt(chosen), opt(other));
            let (x, tx, y, ty) = if rng.below(2) == 0 {
                (l, text, o, other_text)
            } else {
                (o, other_text, l, text)
            };
            match rng.below(4) {
                0 => write!(
                    s,
                    "It could be {x} ({tx}) or {y} ({ty}). The most likely answer is {l}."
                ),
                1 => write!(
                    s,
                    "Both {x} and {y} are plausible, but {l} fits the image better."
                ),
                2 => write!(s, "The answer is {x} or {y}."),
                _ => write!(
                    s,
                    "Option {o} can be ruled out because {other_text} looks different. The answer is {l}."
                ),
            }
        }
        Style::TextOnly => {
            let text = opt(chosen);
            match rng.below(4) {
                0 => write!(s, "{text}"),
                1 => write!(s, "{}.", capitalize(text)),
                2 => write!(s, "The image shows {text}."),
                _ => write!(s, "This is most likely {text}."),
            }
        }
        Style::Refusal => {
            if meta.modality == IR_MODALITY || rng.chance(0.2) {
                s.push_str(PEOPLE_REFUSAL);
            } else {
                let refusal: &str = REFUSALS[rng.below(REFUSALS.len())];
                s.push_str(refusal);
            }
            Ok(())
        }
        Style::Empty => return None,
        Style::Noise => {
            let lower = l.to_ascii_lowercase();
            match rng.below(9) {
                0 => write!(s, "{lower}"),
                1 => write!(s, "{lower}. {}", opt(chosen)),
                2 => write!(s, "Option {l}"),
                3 => write!(s, "{l})"),
                4 => write!(s, "**{l}**"),
                5 => writeln!(s, "{l}"),
                6 => write!(s, " {l}. "),
                7 => write!(s, "the correct answer is: {lower}"),
                _ => write!(s, "{l}. {}", opt(chosen).to_uppercase()),
            }
        }
    };
    // An exactly sized copy: one allocation per prediction.
    Some(s.as_str().to_owned())
}

fn generate_model(
    index: usize,
    seed: u64,
    items: &[DemoItem],
    metas: &[ItemMeta],
) -> (DemoModel, Vec<PredTruth>) {
    let mut rng = Rng::stream(seed, 0x4D0D_E100 + index as u64);
    let (name, profile) = if index < NAMED_MODELS.len() {
        (NAMED_MODELS[index].to_string(), named_profile(index))
    } else {
        let p = random_profile(&mut rng);
        (format!("demo-model-{:02}", index + 1), p)
    };
    let mut ir_styles = profile.styles;
    ir_styles[REFUSAL_STYLE] *= 4.0;
    let mut predictions = Vec::with_capacity(items.len());
    let mut truths = Vec::with_capacity(items.len());
    let mut buf = String::with_capacity(512);
    for (item, meta) in items.iter().zip(metas) {
        if profile.missing > 0.0 && rng.chance(profile.missing) {
            continue;
        }
        let weights = if meta.modality == IR_MODALITY {
            &ir_styles
        } else {
            &profile.styles
        };
        let style = STYLES[rng.weighted(weights)];
        let answers = !matches!(style, Style::Refusal | Style::Empty);
        let k = item.options.len();
        let chosen = if rng.chance(profile.p_correct(meta, k)) {
            meta.correct
        } else {
            (meta.correct + 1 + rng.below(k - 1)) % k
        };
        let prediction = render(&mut rng, style, chosen, item, meta, &mut buf);
        predictions.push((item.index, prediction));
        truths.push(PredTruth {
            chosen: answers.then(|| letter(chosen)),
            style,
        });
    }
    (DemoModel { name, predictions }, truths)
}

/// `generate` plus what the generator knows about each prediction row.
fn generate_with_truth(
    n_items: usize,
    n_models: usize,
    seed: u64,
) -> (DemoData, Vec<Vec<PredTruth>>) {
    let (items, metas) = generate_items(n_items, seed);
    let mut models = Vec::with_capacity(n_models);
    let mut truths = Vec::with_capacity(n_models);
    for m in 0..n_models {
        let (model, truth) = generate_model(m, seed, &items, &metas);
        models.push(model);
        truths.push(truth);
    }
    let data = DemoData {
        dataset: DATASET_NAME.to_string(),
        items,
        models,
    };
    (data, truths)
}

/// Where an item of another benchmark shape sits for the simulated models
/// (`medql gen --shape`): its `fine` and `coarse` groups stand in for the
/// GMAI-MMBench task and modality, so that every model is stronger on
/// some groups than on others; `difficulty` is shared by every model (0 is
/// an average GMAI-MMBench item, higher is harder).
pub(crate) struct Placement {
    pub fine: usize,
    pub coarse: usize,
    pub difficulty: f64,
}

/// The demo's models answering items of another benchmark shape: the same
/// names, skill profiles, answer styles and texts as on the demo data, the
/// explanations naming each item's `modality` text. `places[i]` places
/// `items[i]`; an item's answer letter is the option the models know to be
/// right.
pub(crate) fn answer_items(
    items: &[DemoItem],
    places: &[Placement],
    n_models: usize,
    seed: u64,
) -> Vec<DemoModel> {
    let metas: Vec<ItemMeta> = items
        .iter()
        .zip(places)
        .map(|(item, p)| ItemMeta {
            task: p.fine % TASKS.len(),
            // Below the infrared modality, whose items draw extra refusals.
            modality: p.coarse % IR_MODALITY,
            granularity: G_IMAGE,
            correct: usize::from((item.answer as u8).wrapping_sub(b'A')),
            difficulty: p.difficulty,
        })
        .collect();
    (0..n_models)
        .map(|m| generate_model(m, seed, items, &metas).0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn counts<'a>(xs: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
        let mut m = HashMap::new();
        for x in xs {
            *m.entry(x).or_insert(0) += 1;
        }
        m
    }

    #[test]
    fn deterministic_and_prefix_stable() {
        let a = generate(600, 6, 7);
        let b = generate(600, 6, 7);
        assert_eq!(a, b);
        let c = generate(600, 6, 8);
        assert_ne!(a.items, c.items);
        assert_ne!(a.models, c.models);
        let fewer = generate(600, 4, 7);
        assert_eq!(fewer.items, a.items);
        assert_eq!(fewer.models[..], a.models[..4]);
        assert_eq!(demo(), demo());
    }

    #[test]
    fn names_and_sizes() {
        let d = generate(50, 6, 3);
        assert_eq!(d.dataset, "GMAI-MMBench_DEMO");
        assert_eq!(d.items.len(), 50);
        let names: Vec<&str> = d.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-generalist-7b",
                "demo-medical-13b",
                "demo-verbose-7b",
                "demo-small-2b",
                "demo-model-05",
                "demo-model-06"
            ]
        );
        assert!(generate(0, 3, 1).items.is_empty());
        assert!(generate(0, 3, 1)
            .models
            .iter()
            .all(|m| m.predictions.is_empty()));
        assert_eq!(generate(7, 0, 1).items.len(), 7);
    }

    #[test]
    fn items_are_well_formed() {
        let d = demo();
        let mut k_counts = [0usize; 6];
        let mut differing_category = 0;
        for (i, item) in d.items.iter().enumerate() {
            assert_eq!(item.index, i as i64);
            let k = item.options.len();
            assert!((2..=5).contains(&k), "item {i} has {k} options");
            k_counts[k] += 1;
            let a = (item.answer as u8).wrapping_sub(b'A') as usize;
            assert!(a < k, "answer {} outside options", item.answer);
            for (x, o) in item.options.iter().enumerate() {
                assert!(!o.is_empty());
                assert!(
                    item.options[x + 1..].iter().all(|p| p != o),
                    "duplicate option"
                );
            }
            let correct = &item.options[a];
            if item.category != *correct {
                differing_category += 1;
                assert_eq!(item.category, format!("{correct}."));
            }
            assert!(!item.question.is_empty());
            assert!(item.question.contains(&item.modality) || item.task == "Counting");
            assert!(ORIGINAL_TASKS.contains(&item.original_task.as_str()));
        }
        let n = d.items.len() as f64;
        // VAL: 304 / 165 / 3,075 / 1,006 items with 2 / 3 / 4 / 5 options.
        for (k, real) in [(2, 304.0), (3, 165.0), (4, 3075.0), (5, 1006.0)] {
            let got = k_counts[k] as f64;
            assert!(
                (got - real).abs() <= 0.2 * real + 10.0,
                "{k} options: {got} vs {real}"
            );
        }
        assert!(k_counts[2] as f64 / n > 0.04 && (k_counts[4] as f64 / n) > 0.6);
        // VAL has 17 such items (0.4%).
        assert!(
            (3..=45).contains(&differing_category),
            "{differing_category}"
        );
    }

    #[test]
    fn marginals_match_val() {
        let d = demo();
        assert_eq!(d.items.len(), 4550);
        let tasks = counts(d.items.iter().map(|i| i.task.as_str()));
        let real_tasks = [
            ("Disease Diagnosis", 2122),
            ("Severity Grading", 336),
            ("Organ Recognition - Abdomen", 245),
            ("Surgical Instrument Recognition", 239),
            ("Counting", 188),
            ("Bone", 175),
            ("Organ Recognition - Thorax", 170),
            ("Organ Recognition - Head and Neck", 155),
            ("Blood Vessels Recognition", 135),
            ("Microorganism Recognition", 135),
            ("Attribute Recognition", 135),
            ("Cell Recognition", 115),
            ("Surgeon Action Recognition", 115),
            ("Organ Recognition - Pelvic", 75),
            ("Surgical Workflow Recognition", 70),
            ("Image Quality Grading", 50),
            ("Muscle", 50),
            ("Nervous Tissue", 40),
        ];
        assert_eq!(tasks.len(), 18);
        for (t, real) in real_tasks {
            let got = tasks[t];
            assert!(got.abs_diff(real) * 50 <= real + 50, "{t}: {got} vs {real}");
        }
        let grans = counts(d.items.iter().map(|i| i.granularity.as_str()));
        assert_eq!(grans["Image level"], 2361);
        assert_eq!(grans["Mask level"], 947);
        assert_eq!(grans["Contour level"], 947);
        assert_eq!(grans["Box level"], 295);
        let mods = counts(d.items.iter().map(|i| i.modality.as_str()));
        assert_eq!(mods.len(), 24);
        assert_eq!(mods["CT"], 934);
        assert_eq!(mods["MRI"], 706);
        assert_eq!(mods["Endoscopy"], 654);
        let depts = counts(
            d.items
                .iter()
                .map(|i| i.department.as_deref().unwrap_or("")),
        );
        assert_eq!(depts.len(), 19);
        assert_eq!(depts[""], 75);
        assert_eq!(depts["Ophthalmology"], 569);
        assert_eq!(depts["Hematology"], 458);
        let origs = counts(d.items.iter().map(|i| i.original_task.as_str()));
        assert_eq!(origs["CLS_2D"], 2361);
        assert_eq!(origs["DET_2D"], 295);

        // Scaled sizes keep the proportions.
        let big = generate(25_831, 1, 1);
        assert_eq!(big.items.len(), 25_831);
        let dd = big
            .items
            .iter()
            .filter(|i| i.task == "Disease Diagnosis")
            .count();
        assert!((dd as f64 / 25_831.0 - 2122.0 / 4550.0).abs() < 0.002);
    }

    /// Accuracy by a key, judged by the option each model meant to choose.
    fn accuracy_by<'a>(
        d: &'a DemoData,
        truth: &[PredTruth],
        model: usize,
        key: impl Fn(&'a DemoItem) -> &'a str,
    ) -> HashMap<&'a str, (usize, usize)> {
        let mut acc: HashMap<&str, (usize, usize)> = HashMap::new();
        for ((idx, _), t) in d.models[model].predictions.iter().zip(truth) {
            let item = &d.items[*idx as usize];
            let e = acc.entry(key(item)).or_insert((0, 0));
            e.1 += 1;
            if t.chosen == Some(item.answer) {
                e.0 += 1;
            }
        }
        acc
    }

    fn rate(x: (usize, usize)) -> f64 {
        x.0 as f64 / x.1 as f64
    }

    #[test]
    fn accuracy_differs_by_slice() {
        let (d, truths) = generate_with_truth(4550, 12, DEFAULT_SEED);
        for (m, truth) in truths.iter().enumerate() {
            let by_task = accuracy_by(&d, truth, m, |i| i.task.as_str());
            let rates: Vec<f64> = by_task
                .values()
                .filter(|x| x.1 >= 50)
                .map(|x| rate(*x))
                .collect();
            let best = rates.iter().cloned().fold(f64::MIN, f64::max);
            let worst = rates.iter().cloned().fold(f64::MAX, f64::min);
            assert!(
                best - worst >= 0.10,
                "{}: task accuracy {worst:.3}..{best:.3}",
                d.models[m].name
            );
            let overall = truth
                .iter()
                .zip(&d.models[m].predictions)
                .filter(|(t, (idx, _))| t.chosen == Some(d.items[*idx as usize].answer))
                .count() as f64
                / d.items.len() as f64;
            assert!(overall > 0.15 && overall < 0.85, "overall {overall}");
        }
        // Designed strengths of the named models.
        let med_mod = accuracy_by(&d, &truths[1], 1, |i| i.modality.as_str());
        let med_gran = accuracy_by(&d, &truths[1], 1, |i| i.granularity.as_str());
        assert!(rate(med_mod["CT"]) > rate(med_gran["Box level"]) + 0.15);
        assert!(rate(med_mod["CT"]) > rate(med_mod["Endoscopy"]) + 0.10);
        let gen_task = accuracy_by(&d, &truths[0], 0, |i| i.task.as_str());
        assert!(
            rate(gen_task["Surgical Instrument Recognition"]) > rate(gen_task["Counting"]) + 0.2
        );
        let overall: Vec<usize> = truths
            .iter()
            .zip(&d.models)
            .take(4)
            .map(|(t, m)| {
                t.iter()
                    .zip(&m.predictions)
                    .filter(|(t, (idx, _))| t.chosen == Some(d.items[*idx as usize].answer))
                    .count()
            })
            .collect();
        // The medical model is the strongest, the small one the weakest.
        assert!(overall[1] > overall[0] && overall[0] > overall[3]);
        assert!(overall[2] > overall[3]);
    }

    #[test]
    fn chosen_letters_are_options() {
        let (d, truths) = generate_with_truth(1000, 6, 5);
        for (m, truth) in truths.iter().enumerate() {
            for ((idx, _), t) in d.models[m].predictions.iter().zip(truth) {
                if let Some(c) = t.chosen {
                    let item = &d.items[*idx as usize];
                    assert!(((c as u8 - b'A') as usize) < item.options.len());
                }
            }
        }
    }

    #[test]
    fn all_styles_occur() {
        let (d, truths) = generate_with_truth(4550, 4, DEFAULT_SEED);
        for style in STYLES {
            let n: usize = truths
                .iter()
                .map(|t| t.iter().filter(|p| p.style == style).count())
                .sum();
            assert!(n >= 20, "style {style:?} occurs {n} times");
        }
        let preds: Vec<&Option<String>> = d
            .models
            .iter()
            .flat_map(|m| m.predictions.iter().map(|p| &p.1))
            .collect();
        let has = |f: &dyn Fn(&str) -> bool| preds.iter().any(|p| p.as_deref().is_some_and(f));
        assert!(preds.iter().any(|p| p.is_none()));
        assert!(has(
            &|s| s == "Sorry, I can't help with images of people yet."
        ));
        assert!(has(&|s| s == "Cannot determine the answer"));
        assert!(has(&|s| s.starts_with("Therefore, the correct option is")
            || s.contains(". Therefore, the correct option is")));
        assert!(has(
            &|s| s.len() == 1 && s.chars().all(|c| c.is_ascii_lowercase())
        ));
        assert!(has(&|s| s.starts_with('(') && s.len() == 3));
        assert!(has(&|s| s.starts_with("The answer is ")));
        // Only the small model leaves items unanswered.
        for m in &d.models {
            let missing = d.items.len() - m.predictions.len();
            if m.name == "demo-small-2b" {
                assert!((10..=80).contains(&missing), "{missing}");
            } else {
                assert_eq!(missing, 0, "{}", m.name);
            }
            assert!(m.predictions.windows(2).all(|w| w[0].0 < w[1].0));
        }
        // Text-only answers are option texts without a letter.
        for (m, truth) in truths.iter().enumerate() {
            for ((idx, p), t) in d.models[m].predictions.iter().zip(truth) {
                if t.style == Style::TextOnly {
                    let item = &d.items[*idx as usize];
                    let c = (t.chosen.unwrap() as u8 - b'A') as usize;
                    let p = p.as_deref().unwrap().to_lowercase();
                    assert!(p.contains(&item.options[c].to_lowercase()));
                }
            }
        }
    }

    /// A deliberately simple extractor: works on the plain answer styles.
    fn simple_letter(s: &str) -> Option<char> {
        let s = s.trim();
        let s = s.strip_prefix("The answer is ").unwrap_or(s);
        let s = s.strip_prefix("The correct answer is ").unwrap_or(s);
        let s = s.strip_prefix("Answer: ").unwrap_or(s);
        let s = s.strip_prefix('(').unwrap_or(s);
        let c = s.chars().next()?;
        let rest = &s[1..];
        let boundary = rest.is_empty() || rest.starts_with(['.', ':', ')', ' ']);
        (('A'..='E').contains(&c) && boundary).then_some(c)
    }

    #[test]
    fn plain_styles_name_the_chosen_letter() {
        let (d, truths) = generate_with_truth(2000, 8, 11);
        let mut checked = 0;
        for (m, truth) in truths.iter().enumerate() {
            for ((_, p), t) in d.models[m].predictions.iter().zip(truth) {
                match t.style {
                    Style::Letter | Style::LetterText | Style::Paren | Style::AnswerIs => {
                        let p = p.as_deref().expect("plain styles are never empty");
                        assert_eq!(simple_letter(p), t.chosen, "{p:?}");
                        checked += 1;
                    }
                    Style::Explanation | Style::TwoLetters => {
                        let p = p.as_deref().unwrap();
                        assert!(p.contains(t.chosen.unwrap()));
                    }
                    Style::Empty => assert!(p.is_none()),
                    Style::Refusal => assert!(t.chosen.is_none()),
                    Style::TextOnly | Style::Noise => {}
                }
            }
        }
        assert!(checked > 5000);
    }
}
